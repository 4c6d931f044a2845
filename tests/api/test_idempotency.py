"""`idempotency_key`: the same request again gets the first answer and sends nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.native import NativeApi
from support.numbers import new_mobile
from support.outbox import outbox_messages, wait_for_messages


def test_a_replay_gets_the_first_answer_and_sends_nothing(api: NativeApi, clock: Any) -> None:
    to = new_mobile()
    first = api.start(to=to, idempotency_key="order-9-attempt-1")
    assert first.status_code == 201
    wait_for_messages(api.http, api.headers, to)
    clock.advance(60)  # past the resend cooldown: a plain create here would re-send
    replay = api.start(to=to, idempotency_key="order-9-attempt-1")
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert api.get(first.json()["id"]).json()["sends"] == 1
    assert len(outbox_messages(api.http, api.headers, to)) == 1


def test_a_replay_after_a_check_still_gets_the_first_answer(api: NativeApi) -> None:
    first = api.start(idempotency_key="k-1", reference="r")
    api.check(first.json()["id"], api.code_of(first.json()))
    replay = api.start(to=first.json()["to"], idempotency_key="k-1", reference="r")
    assert (replay.status_code, replay.json()) == (201, first.json())


def test_a_replayed_resend_answers_200_again(api: NativeApi, clock: Any) -> None:
    first = api.started()
    clock.advance(30)
    resend = api.start(to=first["to"], idempotency_key="resend-1")
    assert (resend.status_code, resend.json()["sends"]) == (200, 2)
    clock.advance(30)
    replay = api.start(to=first["to"], idempotency_key="resend-1")
    assert (replay.status_code, replay.json()) == (200, resend.json())
    assert api.get(first["id"]).json()["sends"] == 2


def test_the_same_key_with_another_body_is_a_conflict(api: NativeApi) -> None:
    first = api.start(idempotency_key="k-2", reference="order-1")
    conflict = api.start(to=first.json()["to"], idempotency_key="k-2", reference="order-2")
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    assert (conflict.json()["code"], conflict.json()["field"]) == (
        "idempotency_conflict",
        "idempotency_key",
    )
    other_number = api.start(idempotency_key="k-2", reference="order-1")
    assert other_number.json()["code"] == "idempotency_conflict"


def test_a_key_belongs_to_one_app(api_with: Callable[..., NativeApi]) -> None:
    shop, bank = api_with(), api_with()
    in_shop = shop.start(idempotency_key="shared-key")
    in_bank = bank.start(idempotency_key="shared-key")
    assert (in_shop.status_code, in_bank.status_code) == (201, 201)
    assert in_bank.json()["id"] != in_shop.json()["id"]


def test_a_key_is_forgotten_after_24_hours(api: NativeApi, clock: Any) -> None:
    to = new_mobile()
    first = api.start(to=to, idempotency_key="daily")
    clock.advance(24 * 3600 + 1)
    later = api.start(to=to, idempotency_key="daily")
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]
    # the new verification sent a message of its own (the first one's, a day old, expired
    # unsent if the worker had not sent it yet: docs/security.md)
    assert wait_for_messages(api.http, api.headers, to, verification_id=later.json()["id"])


def test_a_key_is_remembered_for_just_under_24_hours(api: NativeApi, clock: Any) -> None:
    first = api.start(idempotency_key="almost-a-day", ttl_seconds=86_400)
    clock.advance(24 * 3600 - 1)
    replay = api.start(to=first.json()["to"], idempotency_key="almost-a-day", ttl_seconds=86_400)
    assert (replay.status_code, replay.json()) == (201, first.json())
