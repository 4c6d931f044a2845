"""Spend caps count SMS parts per app and per country a day; test numbers send nothing,
accept their fixed code, and stay under every attempt and rate limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.otpgate import wait_until
from peers.receiver import WebhookReceiver
from support.native import NativeApi
from support.numbers import new_mobile
from support.outbox import outbox_messages

US_MOBILE = "+12015550123"
LONG_TEMPLATE = "Your code is {code}. " + "x" * 150  # two GSM-7 parts once the code is in


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    peer = WebhookReceiver().start()
    yield peer
    peer.stop()


def test_the_daily_cap_counts_sms_parts_and_alerts_once(
    api_with: Callable[..., NativeApi], clock: Any, receiver: WebhookReceiver
) -> None:
    api = api_with(messages_per_day=5, template=LONG_TEMPLATE,
                   status_callback_url=receiver.url)  # fmt: skip
    clock.advance(6 * 3600)
    assert [api.start().status_code for _ in range(2)] == [201, 201]  # 4 parts
    refused = [api.start() for _ in range(3)]  # a 2-part message would make 6
    for answer in refused:
        assert answer.status_code == 429
        assert answer.json()["limit"] == "messages_per_day"
        assert answer.headers["Retry-After"] == str(6 * 3600)  # until 00:00 UTC
        assert "daily cap of SMS messages" in answer.json()["detail"]
    assert api.start(template="{code}").status_code == 201  # one part still fits
    events = wait_until(
        receiver.events,
        lambda events: any(e["type"] == "spend_cap.reached" for e in events),
        10,
        what="a spend_cap.reached webhook",
    )
    alerts = [e for e in events if e["type"] == "spend_cap.reached"]
    assert [(a["cap"], a["limit"]) for a in alerts] == [("messages_per_day", 5)]
    clock.advance(6 * 3600)
    assert api.start().status_code == 201


def test_the_country_cap_leaves_other_countries_alone(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(messages_per_country_day=2)
    assert [api.start().status_code for _ in range(2)] == [201, 201]
    refused = api.start()
    assert refused.status_code == 429 and refused.json()["limit"] == "messages_per_country_day"
    assert api.start(to=US_MOBILE).status_code == 201


def test_the_cap_shows_in_metrics(
    api_with: Callable[..., NativeApi], client: TestClient, make_app: Any
) -> None:
    api = api_with(messages_per_day=1)
    api.start()
    api.start()
    metrics = client.get("/metrics").text
    assert 'otpgate_spend_cap_reached_total{app="' in metrics
    assert 'limit="messages_per_day"} 1.0' in metrics


TEST_RANGE = "+447400999"


def test_a_test_number_gets_no_sms_and_takes_its_fixed_code(
    api_with: Callable[..., NativeApi], client: TestClient
) -> None:
    api = api_with(test_numbers={TEST_RANGE: "424242", "+447400999001": "135790"})
    exact = api.started(to="+447400999001")
    ranged = api.started(to="+447400999123")
    assert exact["delivery_status"] == ranged["delivery_status"] == "delivered"
    for verification in (exact, ranged):
        messages = api.http.get(f"/v1/verifications/{verification['id']}/messages",
                                headers=api.headers).json()  # fmt: skip
        assert messages["messages"] == []
        assert outbox_messages(api.http, api.headers, verification["to"]) == []
    assert api.check(exact["id"], "424242").json()["valid"] is False  # the longer entry wins
    assert api.check(exact["id"], "135790").json()["valid"] is True
    assert api.check_by_number("+447400999123", "424242").json()["valid"] is True


def test_a_test_number_keeps_attempt_and_rate_limits(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(test_numbers={TEST_RANGE: "424242"}, max_attempts=2,
                   sends_per_number_10min=2, resend_cooldown_seconds=0)  # fmt: skip
    verification = api.started(to="+447400999555")
    assert api.check(verification["id"], "000000").json()["valid"] is False
    assert api.check(verification["id"], "000001").json()["status"] == "locked"
    assert api.check(verification["id"], "424242").status_code == 409
    assert api.start(to="+447400999555").status_code == 201
    refused = api.start(to="+447400999555")
    assert refused.status_code == 429 and refused.json()["limit"] == "sends_per_number_10min"


def test_test_numbers_are_off_unless_the_app_names_them(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with()
    verification = api.started(to="+447400999777")
    assert verification["delivery_status"] == "queued"
    code = api.code_of(verification)  # a real message went out, with a random code
    assert len(outbox_messages(api.http, api.headers, "+447400999777")) == 1
    if code != "424242":
        assert api.check(verification["id"], "424242").json()["valid"] is False
    other = api_with(test_numbers={TEST_RANGE: "424242"})
    assert other.started(to=new_mobile())["delivery_status"] == "queued"
