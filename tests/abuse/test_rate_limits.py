"""Each rate limit refuses at its count with Retry-After, and lets through again once its
window is over; on the database counters and on Redis alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.native import NativeApi
from support.numbers import new_mobile
from support.outbox import code_in, outbox_messages, wrong_code

from otpgate.domain.errors import RateLimited
from otpgate.runtime import Runtime
from otpgate.service.verifications import StartRequest

# generous defaults for the limits a test does not look at
ROOMY = {"sends_per_app_minute": 10_000, "resend_cooldown_seconds": 0, "max_sends": 20}


def assert_refused(answer: Any, limit: str, retry_after: int, field: str = "to") -> None:
    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert (body["code"], body["limit"], body["field"]) == ("rate_limited", limit, field)
    assert answer.headers["Retry-After"] == str(retry_after) == str(body["retry_after"])


def test_sends_per_number_in_ten_minutes(api_with: Callable[..., NativeApi], clock: Any) -> None:
    api = api_with(**ROOMY, sends_per_number_10min=3)
    to = new_mobile()
    clock.advance(120)  # two minutes into a ten-minute window
    assert [api.start(to=to).status_code for _ in range(3)] == [201, 200, 200]
    assert_refused(api.start(to=to), "sends_per_number_10min", 480)
    assert api.start(to=new_mobile()).status_code == 201  # another number has its own
    clock.advance(479)
    assert_refused(api.start(to=to), "sends_per_number_10min", 1)
    clock.advance(1)
    assert api.start(to=to).status_code == 200


def test_sends_per_number_in_a_day(api_with: Callable[..., NativeApi], clock: Any) -> None:
    api = api_with(**ROOMY, sends_per_number_day=4)
    to = new_mobile()
    for _ in range(4):
        assert api.start(to=to).status_code in (200, 201)
        clock.advance(600)
    assert_refused(api.start(to=to), "sends_per_number_day", 12 * 3600 - 4 * 600)
    clock.advance(12 * 3600 - 4 * 600)
    assert api.start(to=to).status_code == 201


def test_spellings_of_one_number_share_its_bucket(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(**ROOMY, sends_per_number_10min=4)
    spellings = [
        {"to": "+447400900123"},
        {"to": "+44 (0)7400-900.123".replace("(0)", "")},
        {"to": "07400 900123", "country": "GB"},
        {"to": "(07400) 900/123", "country": "gbr"},
    ]
    assert [api.start(**fields).status_code for fields in spellings] == [201, 200, 200, 200]
    assert_refused(api.start(to="+44-7400-900-123"), "sends_per_number_10min", 600)


def test_sends_per_app_in_a_minute(api_with: Callable[..., NativeApi], clock: Any) -> None:
    api = api_with(sends_per_app_minute=3)
    clock.advance(45)
    assert [api.start().status_code for _ in range(3)] == [201, 201, 201]
    assert_refused(api.start(), "sends_per_app_minute", 15)
    clock.advance(15)
    assert api.start().status_code == 201


def test_sends_per_end_user_ip_count_ipv6_by_its_64(
    api_with: Callable[..., NativeApi], clock: Any
) -> None:
    api = api_with(**ROOMY, sends_per_ip_hour=3)
    for host in ("::1", "::2", "::ffff:1"):
        assert api.start(end_user_ip=f"2001:db8:7:7{host}").status_code == 201
    refused = api.start(end_user_ip="2001:db8:7:7:1234:5678:9abc:def0")
    assert_refused(refused, "sends_per_ip_hour", 3600, field="end_user_ip")
    assert api.start(end_user_ip="2001:db8:7:8::1").status_code == 201  # the next /64
    assert api.start(end_user_ip="203.0.113.7").status_code == 201
    assert api.start().status_code == 201  # no end_user_ip: no per-IP limit
    clock.advance(3600)
    assert api.start(end_user_ip="2001:db8:7:7::1").status_code == 201


def test_a_malformed_end_user_ip_is_a_400_naming_it(api_with: Callable[..., NativeApi]) -> None:
    api = api_with()
    for bad in ("1.2.3.4.5", "localhost", "", "2001:db8::/64"):
        answer = api.start(end_user_ip=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["field"] == "end_user_ip"
    started = api.started()
    assert api.check(started["id"], "123456", end_user_ip="x").json()["field"] == "end_user_ip"
    assert api.get(started["id"]).json()["attempts"] == 0


def test_checks_per_end_user_ip(api_with: Callable[..., NativeApi], clock: Any) -> None:
    api = api_with(**ROOMY, checks_per_ip_hour=3, max_attempts=10)
    first, second = api.started(), api.started()
    code = api.code_of(second)
    for verification in (first, first, second):
        answer = api.check(verification["id"], wrong_code(code), end_user_ip="198.51.100.1")
        assert answer.status_code == 200
    refused = api.check(second["id"], code, end_user_ip="198.51.100.1")
    assert_refused(refused, "checks_per_ip_hour", 3600, field="end_user_ip")
    assert api.get(second["id"]).json()["attempts"] == 1  # the refused check was not counted
    assert api.check(second["id"], code, end_user_ip="198.51.100.2").json()["valid"] is True


def test_the_failure_budget_outlasts_fresh_verifications_of_one_number(
    api_with: Callable[..., NativeApi], clock: Any
) -> None:
    api = api_with(**ROOMY, max_attempts=3, failures_per_number_day=7)
    to = new_mobile()
    for _ in range(2):
        verification = api.started(to=to)
        code = api.code_of(verification)
        answers = [api.check(verification["id"], wrong_code(code)).json() for _ in range(3)]
        assert answers[-1]["status"] == "locked"
    third = api.started(to=to)
    code = api.code_of(third)
    seventh = api.check(third["id"], wrong_code(code)).json()
    # the budget is spent: the verification is locked with guesses it had left
    assert (seventh["status"], seventh["valid"]) == ("locked", False)
    assert api.check(third["id"], code).status_code == 409
    clock.advance(60)
    assert_refused(api.start(to=to), "failures_per_number_day", 12 * 3600 - 60)
    assert api.start().status_code == 201  # other numbers are not concerned
    clock.advance(12 * 3600 - 60)
    again = api.started(to=to)
    assert api.check(again["id"], api.code_of(again)).json()["valid"] is True


def test_fifty_parallel_sends_to_one_number_queue_exactly_the_cap(runtime: Runtime) -> None:
    app = runtime.apps.create_app("parallel", {**ROOMY, "sends_per_number_10min": 5})
    to = new_mobile()

    def start(_: int) -> str:
        try:
            runtime.verifications.start(app, StartRequest(to=to))
        except RateLimited as refused:
            assert refused.limit == "sends_per_number_10min"
            return "refused"
        return "sent"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(start, range(50)))
    assert outcomes.count("sent") == 5
    assert outcomes.count("refused") == 45
    asyncio.run(runtime.worker.deliver_due())  # everything queued, handed to the outbox
    assert runtime.outbox is not None
    assert len(runtime.outbox.read(app.id, to, 100)) == 5


def test_a_refusal_by_one_limit_spends_nothing_of_the_others(
    api_with: Callable[..., NativeApi], clock: Any
) -> None:
    api = api_with(**ROOMY, sends_per_number_10min=2, sends_per_ip_hour=2)
    to = new_mobile()
    assert api.start(to=to, end_user_ip="192.0.2.1").status_code == 201
    assert api.start(to=to, end_user_ip="192.0.2.1").status_code == 200
    assert api.start(to=to, end_user_ip="192.0.2.2").status_code == 429  # by the number
    # 192.0.2.2 spent nothing on the refused send: it still has both of its sends
    assert api.start(end_user_ip="192.0.2.2").status_code == 201
    assert api.start(end_user_ip="192.0.2.2").status_code == 201
    assert api.start(end_user_ip="192.0.2.2").status_code == 429


def test_resend_cooldown_and_send_cap_still_answer_as_before(
    api_with: Callable[..., NativeApi], clock: Any
) -> None:
    api = api_with(resend_cooldown_seconds=30, max_sends=2)
    first = api.started()
    cooling = api.start(to=first["to"])
    assert cooling.status_code == 429 and "limit" not in cooling.json()
    clock.advance(30)
    assert api.start(to=first["to"]).status_code == 200
    clock.advance(30)
    assert api.start(to=first["to"]).status_code == 429
    messages = outbox_messages(api.http, api.headers, first["to"])
    assert len({code_in(m["body"]) for m in messages}) == 1


@pytest.mark.parametrize("route", ["id", "number"])
def test_check_routes_take_end_user_ip(api_with: Callable[..., NativeApi], route: str) -> None:
    api = api_with(**ROOMY, checks_per_ip_hour=1)
    verification = api.started()
    code = api.code_of(verification)
    if route == "id":

        def check() -> Any:
            return api.check(verification["id"], code, end_user_ip="192.0.2.9")
    else:

        def check() -> Any:
            return api.check_by_number(verification["to"], code, end_user_ip="192.0.2.9")

    api_other = api.check(verification["id"], wrong_code(code), end_user_ip="192.0.2.9")
    assert api_other.status_code == 200
    assert_refused(check(), "checks_per_ip_hour", 3600, field="end_user_ip")
