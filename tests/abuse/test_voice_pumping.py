"""Voice pumping: calls to one prefix are counted like SMS sends, on counters of their own,
and blocked like them."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from support.native import NativeApi

PREFIX = "+44790"
MIN_SENDS = 20  # the default fraud_min_sends
_serial = itertools.count(1)


def number_in(prefix: str) -> str:
    return f"{prefix}{next(_serial):07d}"


def sent(api: NativeApi, clock: Any, count: int, **fields: Any) -> int:
    """How many of `count` starts to the prefix were sent (a second apart, none checked)."""
    statuses = []
    for _ in range(count):
        statuses.append(api.start(to=number_in(PREFIX), **fields).status_code)
        clock.advance(1)
    assert set(statuses) <= {201, 403}
    return statuses.count(201)


def test_calls_to_a_surging_prefix_are_blocked_on_their_own_count(
    client: TestClient, admin_headers: dict[str, str], clock: Any
) -> None:
    created = client.post(
        "/v1/apps",
        json={
            "name": "voice-pumping",
            "settings": {"channels": ["sms", "call"], "sends_per_app_minute": 100_000},
        },
        headers=admin_headers,
    )
    app_id = created.json()["id"]
    key = client.post(f"/v1/apps/{app_id}/keys", headers=admin_headers).json()["api_key"]
    api = NativeApi(client, {"Authorization": f"Bearer {key}"})
    # just under the surge in SMS: had calls shared the count, the first call would tip it
    assert sent(api, clock, MIN_SENDS - 1, channel="sms") == MIN_SENDS - 1
    assert sent(api, clock, 2 * MIN_SENDS, channel="call") == MIN_SENDS - 1
    refused = api.start(to=number_in(PREFIX), channel="call")
    assert (refused.status_code, refused.json()["code"]) == (403, "fraud_blocked")
    assert refused.json()["prefix"] == PREFIX
