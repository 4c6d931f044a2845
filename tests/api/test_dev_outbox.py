"""The developer outbox: the messages the built-in provider kept, for the app that sent them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.native import NativeApi
from support.numbers import new_mobile
from support.outbox import wait_for_messages

from otpgate.config import Settings
from otpgate.runtime import build_runtime, migrate
from otpgate.server import create_app


def test_a_message_is_readable_within_a_second_of_the_201(api: NativeApi) -> None:
    to = new_mobile()
    created = api.start(to=to, sender="SHOP")
    answered = time.monotonic()
    assert created.status_code == 201
    message = wait_for_messages(api.http, api.headers, to, timeout=1.0)[0]
    assert time.monotonic() - answered < 1.0
    assert set(message) == {
        "id", "to", "channel", "sender", "body", "verification_id", "created_at",
    }  # fmt: skip
    assert message["channel"] == "sms"
    assert (message["to"], message["sender"], message["verification_id"]) == (
        to,
        "SHOP",
        created.json()["id"],
    )
    assert re.fullmatch(r"Your app-[0-9]+ verification code is [0-9]{6}", message["body"])
    assert message["created_at"].endswith("Z")


def test_messages_are_newest_first_and_limited(api: NativeApi, clock: Any) -> None:
    numbers = [new_mobile() for _ in range(3)]
    for to in numbers:
        api.code_of(api.started(to=to))  # delivered before the clock moves on
        clock.advance(1)
    assert [m["to"] for m in api.outbox().json()["messages"]] == list(reversed(numbers))
    assert [m["to"] for m in api.outbox(limit=2).json()["messages"]] == numbers[:0:-1]
    assert [m["to"] for m in api.outbox(to=numbers[1]).json()["messages"]] == [numbers[1]]


def test_an_app_reads_only_its_own_messages(client: TestClient, make_app: Any) -> None:
    shop, bank = NativeApi(client, make_app().headers), NativeApi(client, make_app().headers)
    shop.code_of(shop.started())
    assert bank.outbox().json()["messages"] == []


def test_the_outbox_needs_an_api_key(client: TestClient) -> None:
    assert client.get("/v1/dev/outbox").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"to": "123"}, "to")],
)
def test_a_bad_outbox_query_is_a_400_naming_it(
    api: NativeApi, params: dict[str, Any], field: str
) -> None:
    refused = api.outbox(**params)
    assert (refused.status_code, refused.json()["field"]) == (400, field)


@pytest.fixture
def gateway_client(tmp_path: Path, clock: Any) -> Iterator[TestClient]:
    """otpgate configured with a real SMS provider (a gateway that is never reached here)."""
    settings = Settings(
        data_dir=tmp_path / "gateway",
        admin_token="gateway-admin-token-0123456789",
        secret_key="gateway-secret-key-0123456789abcdefghijkl",
        sms_provider="http",
        http_url="http://127.0.0.1:9/send",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = build_runtime(settings, clock=clock)
    migrate(runtime)
    with TestClient(create_app(runtime, deliver=False)) as client:
        yield client
    runtime.close()


def test_with_another_sms_provider_the_outbox_shows_no_sms_even_before_it_is_sent(
    gateway_client: TestClient,
) -> None:
    # calls and WhatsApp messages still go to the outbox (their providers' default), so the
    # route is there; an SMS on its way to the http gateway is not shown in it
    admin = {"Authorization": "Bearer gateway-admin-token-0123456789"}
    app_id = gateway_client.post("/v1/apps", json={"name": "gw"}, headers=admin).json()["id"]
    key = gateway_client.post(f"/v1/apps/{app_id}/keys", headers=admin).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    started = gateway_client.post("/v1/verifications", json={"to": new_mobile()}, headers=headers)
    assert started.status_code == 201
    answer = gateway_client.get("/v1/dev/outbox", headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"messages": []})
