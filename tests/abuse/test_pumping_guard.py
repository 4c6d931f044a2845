"""The SMS-pumping guard: a scripted attack on one prefix is blocked within the bound
docs/abuse.md promises, ordinary traffic flows, and the block is reported and liftable."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.otpgate import wait_until
from peers.receiver import WebhookReceiver
from support.native import NativeApi

ATTACK_PREFIX = "+44790"
ORDINARY_PREFIXES = ["+44771", "+44772", "+44781", "+44782", "+44791"]
MIN_SENDS = 20  # the default fraud_min_sends
_serial = itertools.count(1)


def number_in(prefix: str) -> str:
    return f"{prefix}{next(_serial):07d}"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    peer = WebhookReceiver().start()
    yield peer
    peer.stop()


def app_with(client: TestClient, admin: dict[str, str], **settings: Any) -> tuple[str, NativeApi]:
    created = client.post("/v1/apps", json={"name": f"guard-{next(_serial)}",
                                            "settings": settings}, headers=admin)  # fmt: skip
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    key = client.post(f"/v1/apps/{app_id}/keys", headers=admin).json()["api_key"]
    return app_id, NativeApi(client, {"Authorization": f"Bearer {key}"})


def attack(api: NativeApi, clock: Any, sends: int, ordinary_every: int = 20) -> dict[str, int]:
    """`sends` codes to sequential numbers in one prefix, one a second, none ever entered;
    between them ordinary people in other prefixes, nine in ten of whom enter their code."""
    tally = {"attack_sent": 0, "attack_refused": 0, "ordinary_sent": 0, "ordinary_refused": 0}
    ordinary = itertools.cycle(ORDINARY_PREFIXES)
    for step in range(sends):
        answer = api.start(to=number_in(ATTACK_PREFIX))
        assert answer.status_code in (201, 403), answer.text
        tally["attack_sent" if answer.status_code == 201 else "attack_refused"] += 1
        if step % ordinary_every == 0:
            person = api.start(to=number_in(next(ordinary)))
            if person.status_code != 201:
                tally["ordinary_refused"] += 1
            else:
                tally["ordinary_sent"] += 1
                if step % (10 * ordinary_every):
                    verification = person.json()
                    assert api.check(verification["id"], api.code_of(verification)).json()["valid"]
        clock.advance(1)
    return tally


def test_a_pumping_attack_is_blocked_and_ordinary_traffic_flows(
    client: TestClient, admin_headers: dict[str, str], clock: Any, receiver: WebhookReceiver
) -> None:
    app_id, api = app_with(client, admin_headers, sends_per_app_minute=100_000,
                           status_callback_url=receiver.url + "/hooks")  # fmt: skip
    tally = attack(api, clock, 1500)
    print(f"\npumping attack, 1500 sends to {ATTACK_PREFIX}…, none checked: {tally}")

    assert tally["attack_sent"] < MIN_SENDS  # the bound docs/abuse.md gives for a new prefix
    assert tally["attack_refused"] == 1500 - tally["attack_sent"]
    assert tally["ordinary_refused"] == 0 and tally["ordinary_sent"] == 75

    refused = api.start(to=number_in(ATTACK_PREFIX))
    body = refused.json()
    assert refused.status_code == 403 and body["code"] == "fraud_blocked"
    assert body["prefix"] == ATTACK_PREFIX and body["field"] == "to"
    assert int(refused.headers["Retry-After"]) == body["retry_after"] <= 12 * 3600

    blocks = client.get(f"/v1/apps/{app_id}/blocks", headers=admin_headers).json()["blocks"]
    assert [(b["id"], b["prefix"], b["country"]) for b in blocks] == [
        (body["block_id"], ATTACK_PREFIX, "GB")
    ]
    assert blocks[0]["approved"] == 0 and blocks[0]["recent_sends"] == MIN_SENDS

    metrics = client.get("/metrics").text
    assert f'otpgate_fraud_blocks_total{{app="{app_id}"}} 1.0' in metrics
    assert f'otpgate_rate_limited_total{{app="{app_id}",limit="fraud_guard"}}' in metrics

    secret = client.get(f"/v1/apps/{app_id}/webhook-secret", headers=admin_headers).json()[
        "webhook_secret"
    ]
    events = wait_until(
        receiver.events,
        lambda events: any(e["type"] == "fraud.blocked" for e in events),
        10,
        what="a fraud.blocked webhook",
    )
    [event] = [e for e in events if e["type"] == "fraud.blocked"]
    assert event["block"]["id"] == body["block_id"] and event["block"]["prefix"] == ATTACK_PREFIX
    [seen] = [s for s in receiver.seen if b"fraud.blocked" in s.body]
    parts = dict(part.split("=", 1) for part in seen.headers["otpgate-signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + seen.body, hashlib.sha256)
    assert hmac.compare_digest(expected.hexdigest(), parts["v1"])

    lifted = client.delete(f"/v1/apps/{app_id}/blocks/{body['block_id']}", headers=admin_headers)
    assert lifted.status_code == 204
    assert client.get(f"/v1/apps/{app_id}/blocks", headers=admin_headers).json() == {"blocks": []}
    # lifted by a person: the guard leaves the prefix alone until the block would have ended
    assert all(api.start(to=number_in(ATTACK_PREFIX)).status_code == 201 for _ in range(30))
    again = client.delete(f"/v1/apps/{app_id}/blocks/{body['block_id']}", headers=admin_headers)
    assert again.status_code == 404


def test_a_block_ends_after_its_cool_off(
    client: TestClient, admin_headers: dict[str, str], clock: Any
) -> None:
    _, api = app_with(client, admin_headers, sends_per_app_minute=100_000,
                      fraud_block_seconds=3600)  # fmt: skip
    tally = attack(api, clock, 60, ordinary_every=1000)
    assert tally["attack_sent"] == MIN_SENDS - 1
    clock.advance(3600)
    assert api.start(to=number_in(ATTACK_PREFIX)).status_code == 201


def test_a_new_prefix_whose_people_enter_their_codes_is_not_blocked(
    client: TestClient, admin_headers: dict[str, str], clock: Any
) -> None:
    app_id, api = app_with(client, admin_headers, sends_per_app_minute=100_000)
    for _ in range(3 * MIN_SENDS):
        verification = api.started(to=number_in("+44753"))
        assert api.check(verification["id"], api.code_of(verification)).json()["valid"]
        clock.advance(20)
    assert client.get(f"/v1/apps/{app_id}/blocks", headers=admin_headers).json() == {"blocks": []}


def test_the_safe_list_and_a_disabled_guard_are_exempt(
    client: TestClient, admin_headers: dict[str, str], clock: Any
) -> None:
    _, safe = app_with(client, admin_headers, sends_per_app_minute=100_000,
                       safe_list=[ATTACK_PREFIX])  # fmt: skip
    _, off = app_with(client, admin_headers, sends_per_app_minute=100_000, fraud_guard=False)
    for api in (safe, off):
        assert attack(api, clock, 3 * MIN_SENDS, ordinary_every=1000)["attack_refused"] == 0


def test_block_routes_need_the_admin_token_and_a_known_app(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    app_id, api = app_with(client, admin_headers)
    assert client.get(f"/v1/apps/{app_id}/blocks", headers=api.headers).status_code == 403
    assert client.get("/v1/apps/app_nope/blocks", headers=admin_headers).status_code == 404
    missing = client.delete(f"/v1/apps/{app_id}/blocks/blk_nope", headers=admin_headers)
    assert missing.status_code == 404
