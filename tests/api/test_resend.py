"""Re-send: a second create for a pending number sends the same code again, within limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from support.native import NativeApi
from support.outbox import code_in, wait_for_messages, wrong_code


def test_a_second_create_resends_the_same_code_for_the_same_verification(
    api: NativeApi, clock: Any
) -> None:
    first = api.started()
    code = api.code_of(first)
    clock.advance(30)
    again = api.start(to=first["to"])
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["sends"] == 2
    messages = wait_for_messages(api.http, api.headers, first["to"], count=2)
    assert [code_in(m["body"]) for m in messages] == [code, code]
    assert {m["verification_id"] for m in messages} == {first["id"]}
    assert len({m["id"] for m in messages}) == 2  # two messages, one verification


def test_attempts_carry_over_to_the_resent_code(api: NativeApi, clock: Any) -> None:
    first = api.started()
    code = api.code_of(first)
    api.check(first["id"], wrong_code(code))
    api.check(first["id"], wrong_code(code))
    clock.advance(30)
    again = api.start(to=first["to"]).json()
    assert (again["attempts"], again["sends"]) == (2, 2)
    assert api.check(first["id"], code).json() == {
        "id": first["id"],
        "status": "approved",
        "valid": True,
        "attempts_left": 2,
    }


def test_a_resend_does_not_move_the_expiry(api: NativeApi, clock: Any) -> None:
    first = api.started(ttl_seconds=120)
    clock.advance(60)
    again = api.start(to=first["to"], ttl_seconds=120).json()
    assert again["expires_at"] == first["expires_at"]


def test_a_resend_within_the_cooldown_is_rate_limited_with_retry_after(
    api: NativeApi, clock: Any
) -> None:
    first = api.started()
    clock.advance(12)
    refused = api.start(to=first["to"])
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "18"
    assert (refused.json()["code"], refused.json()["retry_after"], refused.json()["field"]) == (
        "rate_limited",
        18,
        "to",
    )
    assert api.get(first["id"]).json()["sends"] == 1
    clock.advance(18)
    assert api.start(to=first["to"]).status_code == 200


def test_the_app_sets_the_cooldown(api_with: Callable[..., NativeApi], clock: Any) -> None:
    api = api_with(resend_cooldown_seconds=0)
    first = api.started()
    assert api.start(to=first["to"]).json()["sends"] == 2


def test_after_max_sends_a_resend_is_refused_until_the_verification_expires(
    api_with: Callable[..., NativeApi], clock: Any
) -> None:
    api = api_with(max_sends=3, resend_cooldown_seconds=10, ttl_seconds=600)
    first = api.started()
    for sends in (2, 3):
        clock.advance(10)
        assert api.start(to=first["to"]).json()["sends"] == sends
    clock.advance(100)
    refused = api.start(to=first["to"])
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == str(600 - 120)
    assert len(wait_for_messages(api.http, api.headers, first["to"], count=3)) == 3
    clock.advance(480)
    fresh = api.start(to=first["to"])
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first["id"]
    assert api.get(first["id"]).json()["status"] == "expired"


def test_a_create_after_the_verification_ended_starts_a_new_one(api: NativeApi, clock: Any) -> None:
    first = api.started()
    api.check(first["id"], api.code_of(first))
    second = api.start(to=first["to"])
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert (second.json()["sends"], second.json()["attempts"]) == (1, 0)
    api.cancel(second.json()["id"])
    third = api.start(to=first["to"])
    assert third.status_code == 201
    assert third.json()["id"] not in (first["id"], second.json()["id"])


def test_a_resend_uses_the_template_of_the_new_request(api: NativeApi, clock: Any) -> None:
    first = api.started()
    code = api.code_of(first)
    clock.advance(30)
    api.start(to=first["to"], template="Again: {code}")
    newest = wait_for_messages(api.http, api.headers, first["to"], count=2)
    again, first_text = sorted(m["body"] for m in newest)
    assert again == f"Again: {code}"
    assert re.fullmatch(rf"Your app-[0-9]+ verification code is {code}", first_text)


def test_the_same_number_in_two_apps_gets_two_verifications(
    api_with: Callable[..., NativeApi],
) -> None:
    shop, bank = api_with(), api_with()
    in_shop = shop.started()
    in_bank = bank.start(to=in_shop["to"])
    assert in_bank.status_code == 201
    assert in_bank.json()["id"] != in_shop["id"]
