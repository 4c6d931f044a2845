"""The native API's verification flow through the real ASGI app and a real SQLite database."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from support.analytics import delivered
from support.native import NativeApi
from support.numbers import UK_LANDLINE, UK_MOBILE, UK_UNASSIGNED, US_LANDLINE_OR_MOBILE
from support.outbox import wait_for_messages, wrong_code

from otpgate.api.schemas import CheckOut, VerificationOut

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_new_verification_is_answered_with_every_field_of_the_contract(api: NativeApi) -> None:
    created = api.start(to=UK_MOBILE, external_id="cust-42", reference="order-9", ttl_seconds=600)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {
        "id", "to", "channel", "status", "country", "line_type", "attempts", "max_attempts",
        "sends", "delivery_status", "external_id", "reference", "created_at", "expires_at",
        "approved_at", "locale", "workflow",
    }  # fmt: skip
    assert body["id"].startswith("ver_")
    assert body["workflow"] == [{"channel": "sms", "status": "sent", "sent_at": body["created_at"]}]
    assert body | {"id": None, "created_at": None, "expires_at": None, "workflow": None} == {
        "id": None, "to": UK_MOBILE, "channel": "sms", "status": "pending", "country": "GB",
        "line_type": "mobile", "attempts": 0, "max_attempts": 5, "sends": 1,
        "delivery_status": "queued", "external_id": "cust-42", "reference": "order-9",
        "created_at": None, "expires_at": None, "approved_at": None, "locale": "en",
        "workflow": None,
    }  # fmt: skip
    assert RFC3339_Z.match(body["created_at"]) and RFC3339_Z.match(body["expires_at"])
    assert parse_time(body["expires_at"]) - parse_time(body["created_at"]) == timedelta(seconds=600)


def test_the_answer_to_a_create_never_holds_the_code(api: NativeApi) -> None:
    created = api.start()
    code = api.code_of(created.json())
    assert code not in created.text
    assert "code" not in created.json()


@pytest.mark.parametrize("country", ["GB", "gb", "GBR", "gbr"])
def test_a_national_number_with_an_alpha2_or_alpha3_country_is_stored_in_e164(
    api: NativeApi, country: str
) -> None:
    body = api.started(to="07123 123456", country=country)
    assert (body["to"], body["country"]) == (UK_MOBILE, "GB")


def test_the_right_code_approves_once(api: NativeApi) -> None:
    verification = api.started()
    code = api.code_of(verification)
    checked = api.check(verification["id"], code)
    assert checked.status_code == 200
    assert checked.json() == {
        "id": verification["id"],
        "status": "approved",
        "valid": True,
        "attempts_left": 4,
    }
    again = api.check(verification["id"], code)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert (again.json()["code"], again.json()["verification_status"]) == (
        "not_pending",
        "approved",
    )
    read = api.get(verification["id"]).json()
    assert read["status"] == "approved" and RFC3339_Z.match(read["approved_at"])


def test_wrong_codes_count_down_and_the_fifth_locks(api: NativeApi) -> None:
    verification = api.started()
    code = api.code_of(verification)
    answers = [api.check(verification["id"], wrong_code(code)).json() for _ in range(5)]
    assert [(a["status"], a["valid"], a["attempts_left"]) for a in answers] == [
        ("pending", False, 4),
        ("pending", False, 3),
        ("pending", False, 2),
        ("pending", False, 1),
        ("locked", False, 0),
    ]
    after_lock = api.check(verification["id"], code)
    assert after_lock.status_code == 409
    assert after_lock.json()["verification_status"] == "locked"
    assert api.get(verification["id"]).json()["attempts"] == 5


def test_the_app_sets_how_many_attempts_a_verification_has(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(max_attempts=2)
    verification = api.started()
    assert verification["max_attempts"] == 2
    code = api.code_of(verification)
    assert api.check(verification["id"], wrong_code(code)).json()["status"] == "pending"
    assert api.check(verification["id"], wrong_code(code)).json()["status"] == "locked"


@pytest.mark.parametrize("body", [{"code": ""}, {"code": "   "}, {}])
def test_an_empty_or_missing_code_is_refused_and_not_counted(
    api: NativeApi, body: dict[str, Any]
) -> None:
    verification = api.started()
    refused = api.http.post(
        f"/v1/verifications/{verification['id']}/check", json=body, headers=api.headers
    )
    assert refused.status_code == 400
    assert refused.json()["field"] == "code"
    assert api.get(verification["id"]).json()["attempts"] == 0


def test_a_code_with_space_around_it_or_in_upper_case_is_the_same_code(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(code_alphabet="alphanumeric", code_length=8)
    verification = api.started()
    code = api.code_of(verification)
    assert re.fullmatch(r"[a-z0-9]{8}", code)
    assert api.check(verification["id"], f"  {code.upper()} ").json()["valid"] is True


def test_the_request_may_set_the_code_length(api: NativeApi) -> None:
    verification = api.started(code_length=10)
    assert re.fullmatch(r"[0-9]{10}", api.code_of(verification))


def test_a_code_expires_with_the_clock_and_a_late_check_counts_nothing(
    api: NativeApi, clock: Any
) -> None:
    verification = api.started(ttl_seconds=60)
    code = api.code_of(verification)
    clock.advance(59)
    assert api.get(verification["id"]).json()["status"] == "pending"
    clock.advance(1)
    assert api.get(verification["id"]).json()["status"] == "expired"
    late = api.check(verification["id"], code)
    assert late.status_code == 409
    assert late.json()["verification_status"] == "expired"
    assert api.get(verification["id"]).json()["attempts"] == 0


def test_a_canceled_verification_never_approves(api: NativeApi) -> None:
    verification = api.started()
    code = api.code_of(verification)
    canceled = api.cancel(verification["id"])
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    check = api.check(verification["id"], code)
    assert (check.status_code, check.json()["verification_status"]) == (409, "canceled")
    again = api.cancel(verification["id"])
    assert (again.status_code, again.json()["code"]) == (409, "not_pending")


def test_cancelling_an_expired_verification_is_refused_as_expired(
    api: NativeApi, clock: Any
) -> None:
    verification = api.started(ttl_seconds=1)
    clock.advance(1)
    refused = api.cancel(verification["id"])
    assert (refused.status_code, refused.json()["verification_status"]) == (409, "expired")


def test_a_check_by_number_finds_the_pending_verification(api: NativeApi) -> None:
    verification = api.started()
    code = api.code_of(verification)
    wrong = api.check_by_number(verification["to"], wrong_code(code))
    assert wrong.json() == {
        "id": verification["id"],
        "status": "pending",
        "valid": False,
        "attempts_left": 4,
    }
    right = api.check_by_number(verification["to"], code)
    assert right.json()["valid"] is True
    gone = api.check_by_number(verification["to"], code)
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")


def test_a_check_by_number_reads_a_national_number_with_its_country(api: NativeApi) -> None:
    verification = api.started(to=UK_MOBILE)
    code = api.code_of(verification)
    assert api.check_by_number("07123 123456", code, country="GBR").json()["valid"] is True


def test_a_check_by_number_without_a_pending_verification_is_not_found(api: NativeApi) -> None:
    missing = api.check_by_number("+447400999999", "123456")
    assert (missing.status_code, missing.json()["field"]) == (404, "to")


def test_an_unknown_verification_is_not_found(api: NativeApi) -> None:
    for answer in (
        api.get("ver_unknown"),
        api.check("ver_unknown", "123456"),
        api.cancel("ver_unknown"),
    ):
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"


def test_the_template_fills_app_minutes_and_code_in_the_message(client: Any, make_app: Any) -> None:
    shop = make_app({"ttl_seconds": 300, "sender": "SHOP"}, name="Mayflower")
    api = NativeApi(client, shop.headers)
    verification = api.started(template="{app}: {code} ({minutes} min)")
    message = wait_for_messages(client, shop.headers, verification["to"])[0]
    assert re.fullmatch(r"Mayflower: [0-9]{6} \(5 min\)", message["body"])
    assert message["sender"] == "SHOP"


def test_a_request_sender_overrides_the_apps(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(sender="SHOP")
    verification = api.started(sender="+447123000000")
    assert wait_for_messages(api.http, api.headers, verification["to"])[0]["sender"] == (
        "+447123000000"
    )


def test_a_sender_the_app_has_not_approved_is_refused(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(approved_senders=["SHOP"])
    refused = api.start(sender="OTHER")
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "invalid_sender",
        "sender",
    )
    assert api.start(sender="SHOP").status_code == 201


def test_a_country_the_app_blocks_is_refused(api_with: Callable[..., NativeApi]) -> None:
    api = api_with(blocked_countries=["GBR"])
    refused = api.start(to=UK_MOBILE)
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "country_blocked",
        "to",
    )
    assert api.start(to=US_LANDLINE_OR_MOBILE).status_code == 201


def test_a_country_outside_the_apps_allowed_list_is_refused(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(allowed_countries=["US"])
    assert api.start(to=UK_MOBILE).json()["code"] == "country_blocked"


def test_blocking_landlines_refuses_landlines_but_not_us_numbers(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(blocked_line_types=["landline"])
    refused = api.start(to=UK_LANDLINE)
    assert (refused.status_code, refused.json()["code"]) == (400, "line_type_blocked")
    allowed = api.started(to=US_LANDLINE_OR_MOBILE)
    assert allowed["line_type"] == "landline_or_mobile"


def test_a_possible_but_unassigned_number_gets_no_code(api: NativeApi) -> None:
    refused = api.start(to=UK_UNASSIGNED)
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "invalid_phone_number",
        "to",
    )


def test_a_message_is_queued_then_delivered_to_the_outbox(api: NativeApi) -> None:
    verification = api.started()
    assert verification["delivery_status"] == "queued"
    api.code_of(verification)
    # the outbox shows the message at the 201; the worker records its delivery after that
    delivered(api, verification)


def test_the_answer_models_describe_the_presenters_documents_exactly(api: NativeApi) -> None:
    started = api.started()
    assert set(started) == set(VerificationOut.model_fields)
    VerificationOut.model_validate(started, strict=True)
    checked = api.check(started["id"], wrong_code(api.code_of(started))).json()
    assert set(checked) == set(CheckOut.model_fields)
