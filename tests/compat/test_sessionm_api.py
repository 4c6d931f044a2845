"""SessionM's SMS Validation API through the in-process app: every error of compat.md, the
campaign precondition, flows to the opt-in record, and malformed input in the vendor's shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.cases import named
from support.numbers import UK_UNASSIGNED, new_mobile
from support.outbox import read_code, wait_for_messages, wrong_code
from support.vendor_apps import SESSIONM_SETTINGS, MakeVendorApp, VendorApp

INVALID_CODE = {"status": "Bad Request", "message": "Invalid validation code"}
INVALID_NUMBER = {"status": "Bad Request", "message": "Invalid phone number"}
INVALID_API_KEY = {"status": "error", "errors": {"code": "invalid_api_key"}}


def path(app: VendorApp, route: str, *, key: str | None = None) -> str:
    return f"/priv/v1/apps/{key or app.key_id}/messaging_events/sms/validation/{route}"


def post(client: TestClient, app: VendorApp, route: str, body: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("auth", app.basic)
    if isinstance(body, bytes):
        return client.post(path(app, route), content=body, **kwargs)
    return client.post(path(app, route), json=body, **kwargs)


def requested(client: TestClient, app: VendorApp, external_id: str = "cust-1") -> str:
    """International digits of a fresh number that was sent a code for `external_id`."""
    to = new_mobile().lstrip("+")
    answer = post(client, app, "request", {"external_id": external_id, "to_phone_number": to})
    assert answer.json() == {"status": "ok"}, answer.text
    return to


def confirm(client: TestClient, app: VendorApp, to: str, code: str, external_id: str = "cust-1"):  # type: ignore[no-untyped-def]
    body = {"external_id": external_id, "to_phone_number": to, "validation_code": code}
    return post(client, app, "confirmation", body)


@pytest.fixture
def app(vendor_app: MakeVendorApp) -> VendorApp:
    return vendor_app(**SESSIONM_SETTINGS)


REQUEST_ERRORS = [
    ({"to_phone_number": "447123123456"}, "required parameter external_id missing"),
    ({"external_id": "", "to_phone_number": "447123123456"},
     "required parameter external_id missing"),
    ({"external_id": "c"}, "required parameter to_phone_number missing"),
    ({"external_id": "c", "to_phone_number": " "}, "required parameter to_phone_number missing"),
    ({"external_id": "c", "to_phone_number": "4479790802150"}, "Invalid phone number"),
    ({"external_id": "c", "to_phone_number": "call me"}, "Invalid phone number"),
    ({"external_id": "c", "to_phone_number": UK_UNASSIGNED}, "Invalid phone number"),
    ({"external_id": "c", "to_phone_number": "447123123456", "message_text": "a\tb"},
     "invalid parameter message_text"),
    ({"external_id": "c", "to_phone_number": "447123123456", "message_text": "x" * 500},
     "invalid parameter message_text"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS)
def test_each_request_error_is_the_vendors_bad_request(
    client: TestClient, app: VendorApp, body: dict[str, Any], message: str
) -> None:
    answer = post(client, app, "request", body)
    assert answer.status_code == 400
    assert answer.json() == {"status": "Bad Request", "message": message}


CONFIRMATION_ERRORS = [
    ({"to_phone_number": "447123123456", "validation_code": "1"},
     "required parameter external_id missing"),
    ({"external_id": "c", "validation_code": "1"}, "required parameter to_phone_number missing"),
    ({"external_id": "c", "to_phone_number": "447123123456"},
     "required parameter validation_code missing"),
    ({"external_id": "c", "to_phone_number": "447123123456", "validation_code": ""},
     "required parameter validation_code missing"),
    ({"external_id": "c", "to_phone_number": "nope", "validation_code": "1234"},
     "Invalid phone number"),
    ({"external_id": "c", "to_phone_number": "447123123456", "validation_code": "1234"},
     "Invalid validation code"),  # nothing pending
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), CONFIRMATION_ERRORS)
def test_each_confirmation_error_is_the_vendors_bad_request(
    client: TestClient, app: VendorApp, body: dict[str, Any], message: str
) -> None:
    for route in ("confirmation", "confirm"):
        answer = post(client, app, route, body)
        assert answer.status_code == 400
        assert answer.json() == {"status": "Bad Request", "message": message}


@pytest.mark.parametrize("campaign", [None, {"opt_in_keyword": "NO"}, {"opt_in_keyword": "JOIN"}])
def test_without_a_global_campaign_with_keyword_yes_nothing_is_sent(
    client: TestClient, vendor_app: MakeVendorApp, campaign: dict[str, str] | None
) -> None:
    app = vendor_app(sms_campaign=campaign)
    to = new_mobile()
    answer = post(client, app, "request", {"external_id": "c", "to_phone_number": to})
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "Bad Request",
        "message": "no global SMS campaign with opt-in keyword YES",
    }
    assert app.native.list().json()["verifications"] == []


def test_the_keyword_matches_without_case(client: TestClient, vendor_app: MakeVendorApp) -> None:
    app = vendor_app(sms_campaign={"opt_in_keyword": "yes"})
    requested(client, app)


def test_a_right_code_is_ok_and_records_the_opt_in(client: TestClient, app: VendorApp) -> None:
    to = requested(client, app, "cust-42")
    [pending] = app.native.list().json()["verifications"]
    assert app.native.get(pending["id"]).json()["status"] == "pending"
    code = read_code(client, app.native.headers, "+" + to)
    answer = confirm(client, app, to, code, "cust-42")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    opt_ins = client.get(
        "/v1/opt-ins", params={"external_id": "cust-42"}, headers=app.native.headers
    )
    [opt_in] = opt_ins.json()["opt_ins"]
    assert (opt_in["to"], opt_in["source"]) == ("+" + to, "sessionm")
    [verification] = app.native.list().json()["verifications"]
    native = app.native.get(verification["id"]).json()
    assert (native["status"], native["external_id"]) == ("approved", "cust-42")


def test_the_default_message_text_prefixes_the_code(client: TestClient, app: VendorApp) -> None:
    to = requested(client, app)
    code = read_code(client, app.native.headers, "+" + to)
    message = app.native.outbox(to="+" + to).json()["messages"][0]["body"]
    assert message == f"Validation Code: {code}"


def test_alphanumeric_codes_are_checked_without_case(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app(**SESSIONM_SETTINGS, code_alphabet="alphanumeric", code_length=10)
    to = requested(client, app)
    code = read_code(client, app.native.headers, "+" + to)
    assert confirm(client, app, to, code.upper()).json() == {"status": "ok"}


@pytest.mark.parametrize(
    "case", ["wrong", "expired", "locked", "used", "other customer", "other app"]
)
def test_every_failed_confirmation_is_the_same_invalid_validation_code(
    client: TestClient, app: VendorApp, vendor_app: MakeVendorApp, clock: Any, case: str
) -> None:
    to = requested(client, app)
    code = read_code(client, app.native.headers, "+" + to)
    if case == "wrong":
        code = wrong_code(code)
    elif case == "expired":
        clock.advance(600)
    elif case == "locked":
        for _ in range(5):
            assert confirm(client, app, to, wrong_code(code)).json() == INVALID_CODE
    elif case == "used":
        assert confirm(client, app, to, code).json() == {"status": "ok"}
    if case == "other customer":
        answer = confirm(client, app, to, code, external_id="cust-2")
    elif case == "other app":
        answer = confirm(client, vendor_app(**SESSIONM_SETTINGS), to, code)
    else:
        answer = confirm(client, app, to, code)
    assert (answer.status_code, answer.json()) == (400, INVALID_CODE)
    if case in ("other customer", "other app"):
        assert confirm(client, app, to, code).json() == {"status": "ok"}  # still pending


def test_a_second_request_for_the_same_customer_resends_the_same_code(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app(**SESSIONM_SETTINGS, resend_cooldown_seconds=0)
    to = requested(client, app)
    body = {"external_id": "cust-1", "to_phone_number": to}
    assert post(client, app, "request", body).json() == {"status": "ok"}
    first, second = wait_for_messages(client, app.native.headers, "+" + to, count=2)[:2]
    assert first["body"] == second["body"]
    assert first["verification_id"] == second["verification_id"]


def test_a_request_for_another_customer_on_the_same_number_gets_its_own_code(
    client: TestClient, app: VendorApp
) -> None:
    to = requested(client, app, "cust-1")
    second = post(client, app, "request", {"external_id": "cust-2", "to_phone_number": to})
    assert second.json() == {"status": "ok"}
    messages = wait_for_messages(client, app.native.headers, "+" + to, count=2)
    assert len({message["verification_id"] for message in messages}) == 2
    [theirs] = app.native.list(status="pending").json()["verifications"]
    assert theirs["external_id"] == "cust-2"
    code = read_code(client, app.native.headers, "+" + to, verification_id=theirs["id"])
    assert confirm(client, app, to, code, "cust-2").json() == {"status": "ok"}
    statuses = {v["external_id"]: v["status"] for v in app.native.list().json()["verifications"]}
    assert statuses == {"cust-1": "canceled", "cust-2": "approved"}


def test_a_second_request_within_the_cooldown_is_rate_limited(
    client: TestClient, app: VendorApp
) -> None:
    to = requested(client, app)
    answer = post(client, app, "request", {"external_id": "cust-1", "to_phone_number": to})
    assert answer.status_code == 400
    assert answer.json() == {"status": "Bad Request", "message": "rate limit exceeded; retry later"}
    assert int(answer.headers["retry-after"]) > 0


def test_a_number_the_app_may_not_send_to_is_an_invalid_phone_number(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app(**SESSIONM_SETTINGS, blocked_countries=["GB"])
    answer = post(client, app, "request", {"external_id": "c", "to_phone_number": "447123123456"})
    assert (answer.status_code, answer.json()) == (400, INVALID_NUMBER)


def test_e164_numbers_and_form_bodies_are_accepted(client: TestClient, app: VendorApp) -> None:
    to = new_mobile()
    answer = client.post(
        path(app, "request"), data={"external_id": "c", "to_phone_number": to}, auth=app.basic
    )
    assert answer.json() == {"status": "ok"}
    assert app.native.list().json()["verifications"][0]["to"] == to


@pytest.mark.parametrize(
    "credentials",
    ["none", "wrong secret", "unknown key", "another app's key", "not base64", "bearer"],
)
def test_bad_credentials_are_invalid_api_key_whether_the_key_exists_or_not(
    client: TestClient, app: VendorApp, vendor_app: MakeVendorApp, credentials: str
) -> None:
    other = vendor_app(**SESSIONM_SETTINGS)
    headers: dict[str, str] = {}
    auth: Any = None
    if credentials == "wrong secret":
        auth = (app.key_id, "wrong")
    elif credentials == "unknown key":
        auth = ("key_unknown0000000000000000", app.secret)
    elif credentials == "another app's key":
        auth = other.basic  # valid, but not the key in the path
    elif credentials == "not base64":
        headers = {"Authorization": "Basic %%%"}
    elif credentials == "bearer":
        headers = {"Authorization": f"Bearer {app.key_id}.{app.secret}"}
    body = {"external_id": "c", "to_phone_number": new_mobile()}
    for route in ("request", "confirmation"):
        answer = client.post(path(app, route), json=body, headers=headers, auth=auth)
        assert (answer.status_code, answer.json()) == (401, INVALID_API_KEY)
    assert app.native.list().json()["verifications"] == []


def test_paths_match_in_any_case_but_the_key_keeps_its_own(
    client: TestClient, app: VendorApp
) -> None:
    to = new_mobile().lstrip("+")
    upper = f"/PRIV/V1/Apps/{app.key_id}/Messaging_Events/SMS/Validation/Request"
    answer = client.post(upper, json={"external_id": "c", "to_phone_number": to}, auth=app.basic)
    assert answer.json() == {"status": "ok"}
    shouted = path(app, "request", key=app.key_id.upper())
    answer = client.post(shouted, json={"external_id": "c", "to_phone_number": to}, auth=app.basic)
    assert answer.status_code == 401


def request_body(**fields: Any) -> bytes:
    return json.dumps({"external_id": "c", "to_phone_number": "447123123456", **fields}).encode()


MALFORMED = [
    ("truncated JSON", b'{"external_id": "c", "to_phone', "malformed request body"),
    ("a JSON list of two", b'[{"external_id": "c"}, {}]', "malformed request body"),
    ("a JSON string", b'"c"', "malformed request body"),
    ("not UTF-8", b'{"external_id": "\xff"}', "malformed request body"),
    ("external_id is an object", request_body(external_id={"id": 1}),
     "invalid parameter external_id"),
    ("external_id is huge", request_body(external_id="c" * 10000), "invalid parameter external_id"),
    ("external_id is a lone surrogate",
     b'{"external_id": "\\ud800", "to_phone_number": "447123123456"}',
     "invalid parameter external_id"),
    ("number is a list", request_body(to_phone_number=["447123123456"]), "Invalid phone number"),
    ("number is huge", request_body(to_phone_number="4" * 30000), "Invalid phone number"),
    ("message_text is a list", request_body(message_text=["x"]), "invalid parameter message_text"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), named(MALFORMED))
def test_malformed_requests_get_the_vendors_bad_request(
    client: TestClient, app: VendorApp, body: bytes, message: str
) -> None:
    answer = post(client, app, "request", body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"status": "Bad Request", "message": message}


@pytest.mark.parametrize(
    "body",
    [
        {"external_id": "c", "to_phone_number": "447123123456", "validation_code": {"x": 1}},
        {"external_id": "c", "to_phone_number": "447123123456", "validation_code": "1" * 65},
        {"external_id": "c", "to_phone_number": "447123123456", "validation_code": "١٢٣٤"},
    ],
    ids=["object", "too long", "not ASCII"],
)
def test_a_code_that_cannot_be_a_code_is_an_invalid_validation_code(
    client: TestClient, app: VendorApp, body: dict[str, Any]
) -> None:
    answer = post(client, app, "confirmation", body)
    assert (answer.status_code, answer.json()) == (400, INVALID_CODE)


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("GET", "/priv/v1/apps/KEY/messaging_events/sms/validation/request", 405,
         "method_not_allowed"),
        ("DELETE", "/priv/v1/apps/KEY/messaging_events/sms/validation/confirm", 405,
         "method_not_allowed"),
        ("POST", "/priv/v1/apps/KEY/messaging_events/sms/validation/other", 404, "not_found"),
        ("POST", "/PRIV/V1/anything", 404, "not_found"),
    ],
)  # fmt: skip
def test_unknown_routes_and_methods_under_priv_answer_in_the_generic_shape(
    client: TestClient, app: VendorApp, method: str, url: str, status: int, code: str
) -> None:
    answer = client.request(method, url.replace("KEY", app.key_id), auth=app.basic)
    assert (answer.status_code, answer.json()) == (
        status,
        {"status": "error", "errors": {"code": code}},
    )


def test_a_body_over_64_kib_is_refused_in_the_generic_shape(
    client: TestClient, app: VendorApp
) -> None:
    body = {"external_id": "c", "to_phone_number": "447123123456", "message_text": "x" * 70000}
    answer = post(client, app, "request", body)
    assert answer.status_code == 413
    assert answer.json() == {"status": "error", "errors": {"code": "payload_too_large"}}
