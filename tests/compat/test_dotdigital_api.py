"""dotdigital Verify through the in-process app: every failureCode of compat.md, numberStatus
from the line type, validUntil, placeholders, and validation to the end of a request id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.dotdigital import the_one_failure
from support.numbers import UK_LANDLINE, UK_UNASSIGNED, US_LANDLINE_OR_MOBILE, new_mobile
from support.outbox import read_code, wrong_code
from support.vendor_apps import MakeVendorApp, VendorApp


def send(client: TestClient, app: VendorApp, **fields: Any) -> Any:
    body = {"from": "Test", **fields}
    if "to" not in body:
        body["to"] = new_mobile().lstrip("+")
    return client.post("/webapi/verify", json=body, auth=app.basic)


def validate(client: TestClient, app: VendorApp, request_id: str, code: str) -> Any:
    return client.put(f"/webapi/verify/{request_id}/validate", json={"code": code}, auth=app.basic)


def failure_of(answer: Any) -> tuple[str, str]:
    failure = the_one_failure(answer)
    return failure["property"], failure["failureCode"]


def iso(clock: Any, minutes: float) -> str:
    """UTC ISO 8601 to the millisecond, as the vendor writes it (2015-10-21T13:28:06.419Z)."""
    return (clock.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture
def app(vendor_app: MakeVendorApp) -> VendorApp:
    return vendor_app()


# every 400 failureCode of compat.md that a send can give, with a body that causes it
SEND_FAILURES = [
    ({"to": ""}, "to", "ToEmpty"),
    ({"to": None}, "to", "ToEmpty"),
    ({"to": "4479790802150"}, "to", "ToInvalid"),
    ({"to": "not a number"}, "to", "ToInvalid"),
    ({"from": ""}, "from", "FromEmpty"),
    ({"from": "   "}, "from", "FromEmpty"),
    ({"from": "Te$t"}, "from", "FromContainsDisallowedCharacters"),
    ({"from": "1234567890123456"}, "from", "FromExceedsMaxNumericLength"),
    ({"from": "MAYFLOWER123"}, "from", "FromExceedsMaxTextLength"),
    ({"from": "M"}, "from", "FromUnderMinTextLength"),
    ({"from": "7"}, "from", "FromUnderMinTextLength"),
    ({"to": "07123123456", "countryIsoCode": "XYZ"}, "countryIsoCode", "CountryIsoCodeInvalid"),
    ({"to": "07123123456", "countryIsoCode": "GB"}, "countryIsoCode", "CountryIsoCodeInvalid"),
    ({"body": "no placeholder here"}, "body", "BodyInvalid"),
]


@pytest.mark.parametrize(("fields", "property_name", "code"), SEND_FAILURES)
def test_each_send_failure_names_the_property_and_the_vendor_code(
    client: TestClient, app: VendorApp, fields: dict[str, Any], property_name: str, code: str
) -> None:
    assert failure_of(send(client, app, **fields)) == (property_name, code)


def test_missing_fields_are_empty_fields(client: TestClient, app: VendorApp) -> None:
    assert (
        failure_of(client.post("/webapi/verify", json={"to": "447123123456"}, auth=app.basic))[1]
        == "FromEmpty"
    )
    assert (
        failure_of(client.post("/webapi/verify", json={"from": "Test"}, auth=app.basic))[1]
        == "ToEmpty"
    )


def test_valid_until_in_the_past_or_beyond_30_minutes_is_refused(
    client: TestClient, app: VendorApp, clock: Any
) -> None:
    assert failure_of(send(client, app, validUntil=iso(clock, -1))) == (
        "validUntil",
        "ValidUntilMinExceeded",
    )
    assert failure_of(send(client, app, validUntil=iso(clock, 0))) == (
        "validUntil",
        "ValidUntilMinExceeded",
    )
    assert failure_of(send(client, app, validUntil=iso(clock, 30.5))) == (
        "validUntil",
        "ValidUntilMaxExceeded",
    )
    assert send(client, app, validUntil=iso(clock, 30)).status_code == 202


def test_a_second_send_to_the_same_number_within_the_cooldown_is_throttled(
    client: TestClient, app: VendorApp
) -> None:
    to = new_mobile().lstrip("+")
    assert send(client, app, to=to).status_code == 202
    answer = send(client, app, to=to)
    assert failure_of(answer) == ("to", "Throttled")
    assert int(answer.headers["retry-after"]) > 0


@pytest.mark.parametrize("body", [{"code": ""}, {"code": "   "}, {"code": None}, {}])
def test_an_empty_code_is_code_empty_and_counts_nothing(
    client: TestClient, app: VendorApp, body: dict[str, Any]
) -> None:
    request_id = send(client, app).json()["requestId"]
    answer = client.put(f"/webapi/verify/{request_id}/validate", json=body, auth=app.basic)
    assert failure_of(answer) == ("verifyCode", "CodeEmpty")
    [verification] = app.native.list().json()["verifications"]
    assert verification["attempts"] == 0


def test_a_code_no_keyboard_sends_is_code_invalid_and_counts_nothing(
    client: TestClient, app: VendorApp
) -> None:
    request_id = send(client, app).json()["requestId"]
    assert failure_of(validate(client, app, request_id, "1" * 65)) == ("verifyCode", "CodeInvalid")
    assert failure_of(validate(client, app, request_id, "12\u00e934")) == (
        "verifyCode",
        "CodeInvalid",
    )
    assert app.native.list().json()["verifications"][0]["attempts"] == 0


@pytest.mark.parametrize(
    ("to", "number_status"),
    [
        ("447123123456", "On"),  # mobile
        (US_LANDLINE_OR_MOBILE.lstrip("+"), "On"),  # the plan cannot tell: may be a mobile
        (UK_LANDLINE.lstrip("+"), "NotProvisioned"),
        ("448001234567", "NotProvisioned"),  # toll free
    ],
)
def test_number_status_comes_from_the_line_type(
    client: TestClient, app: VendorApp, to: str, number_status: str
) -> None:
    answer = send(client, app, to=to)
    assert answer.status_code == 202
    assert answer.json()["numberStatus"] == number_status
    assert answer.json()["status"] == "CodeNotVerified"
    assert answer.json()["phoneNumber"] == to


def test_a_dead_number_is_code_not_sent_and_its_request_id_is_unknown(
    client: TestClient, app: VendorApp
) -> None:
    answer = send(client, app, to=UK_UNASSIGNED.lstrip("+"))
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["numberStatus"]) == ("CodeNotSent", "Dead")
    assert body["phoneNumber"] == UK_UNASSIGNED.lstrip("+")
    assert validate(client, app, body["requestId"], "123456").status_code == 204
    assert app.native.list().json()["verifications"] == []


@pytest.mark.parametrize(
    ("app_settings", "to", "number_status"),
    [
        ({"blocked_countries": ["GB"]}, "447123123456", "On"),
        ({"allowed_countries": ["US"]}, "447123123456", "On"),
        ({"blocked_line_types": ["landline"]}, UK_LANDLINE.lstrip("+"), "NotProvisioned"),
        ({"approved_senders": ["MAYFLOWER"]}, "447123123456", "On"),
    ],
)
def test_other_policy_refusals_are_code_not_sent(
    client: TestClient,
    vendor_app: MakeVendorApp,
    app_settings: dict[str, Any],
    to: str,
    number_status: str,
) -> None:
    app = vendor_app(**app_settings)
    answer = send(client, app, to=to)
    assert answer.status_code == 202
    assert (answer.json()["status"], answer.json()["numberStatus"]) == (
        "CodeNotSent",
        number_status,
    )
    assert app.native.list().json()["verifications"] == []


def test_a_national_number_with_an_alpha3_country(client: TestClient, app: VendorApp) -> None:
    answer = send(client, app, to="07123 123456", countryIsoCode="GBR")
    assert answer.status_code == 202
    assert answer.json()["phoneNumber"] == "447123123456"


def test_body_placeholders_and_valid_until_shape_the_message_and_the_expiry(
    client: TestClient, app: VendorApp, clock: Any
) -> None:
    until = iso(clock, 12)
    answer = send(
        client,
        app,
        to="447123123456",
        body="Valid for {{validMinutes}} minutes: {{code}}",
        validUntil=until,
    )
    assert answer.status_code == 202
    code = read_code(client, app.native.headers, "+447123123456")
    message = app.native.outbox(to="+447123123456").json()["messages"][0]["body"]
    assert message == f"Valid for 12 minutes: {code}"
    [verification] = app.native.list().json()["verifications"]
    assert verification["expires_at"] == until


def test_the_default_body_and_validity_are_the_apps(client: TestClient, app: VendorApp) -> None:
    answer = send(client, app, to="447123123456")
    assert answer.status_code == 202
    code = read_code(client, app.native.headers, "+447123123456")
    message = app.native.outbox(to="+447123123456").json()["messages"][0]["body"]
    assert message == f"Your verification code is {code}"
    [verification] = app.native.list().json()["verifications"]
    assert verification["expires_at"] > verification["created_at"]


def test_a_right_code_is_code_verified_once_then_204(client: TestClient, app: VendorApp) -> None:
    verify_code = send(client, app, to="447123123456").json()
    code = read_code(client, app.native.headers, "+447123123456")
    answer = validate(client, app, verify_code["requestId"], code)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "CodeVerified"
    assert body["verified"] is not None
    assert validate(client, app, verify_code["requestId"], code).status_code == 204
    [verification] = app.native.list().json()["verifications"]
    assert verification["status"] == "approved"


def test_the_fifth_wrong_code_is_code_locked_then_204_with_no_count(
    client: TestClient, app: VendorApp
) -> None:
    request_id = send(client, app, to="447123123456").json()["requestId"]
    code = read_code(client, app.native.headers, "+447123123456")
    statuses = [
        validate(client, app, request_id, wrong_code(code)).json()["status"] for _ in range(5)
    ]
    assert statuses == ["CodeNotVerified"] * 4 + ["CodeLocked"]
    after = validate(client, app, request_id, code)
    assert after.status_code == 204 and after.content == b""
    [verification] = app.native.list().json()["verifications"]
    assert (verification["status"], verification["attempts"]) == ("locked", 5)


def test_the_first_check_after_expiry_is_code_expired_then_204(
    client: TestClient, app: VendorApp, clock: Any
) -> None:
    request_id = send(client, app, to="447123123456", validUntil=iso(clock, 5)).json()["requestId"]
    code = read_code(client, app.native.headers, "+447123123456")
    clock.advance(5 * 60)
    expired = validate(client, app, request_id, code)
    assert expired.status_code == 200
    assert expired.json()["status"] == "CodeExpired"
    assert expired.json()["verified"] is None
    assert validate(client, app, request_id, code).status_code == 204
    [verification] = app.native.list().json()["verifications"]
    assert (verification["status"], verification["attempts"]) == ("expired", 0)


@pytest.mark.parametrize(
    "request_id",
    ["55569B50-785F-4865-9769-ED1E21CF6A88", "not-a-guid", "{55569B50-785F-4865-9769}"],
)
def test_an_unknown_request_id_is_204(client: TestClient, app: VendorApp, request_id: str) -> None:
    answer = validate(client, app, request_id, "123456")
    assert answer.status_code == 204
    assert answer.content == b""


def test_another_apps_request_id_is_204_and_its_attempts_are_untouched(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    owner, other = vendor_app(), vendor_app()
    request_id = send(client, owner, to="447123123456").json()["requestId"]
    assert validate(client, other, request_id, "000000").status_code == 204
    [verification] = owner.native.list().json()["verifications"]
    assert verification["attempts"] == 0


def test_a_verification_started_here_is_in_the_native_api_with_the_same_status(
    client: TestClient, app: VendorApp
) -> None:
    request_id = send(client, app, to="447123123456").json()["requestId"]
    [verification] = app.native.list().json()["verifications"]
    assert app.native.get(verification["id"]).json()["status"] == "pending"
    code = read_code(client, app.native.headers, "+447123123456")
    assert validate(client, app, request_id, code).json()["status"] == "CodeVerified"
    assert app.native.get(verification["id"]).json()["status"] == "approved"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
@pytest.mark.parametrize(
    "path",
    [
        "/webapi/verify/{id}/validate",
        "/WebApi/Verify/{ID}/Validate",
        "/WEBAPI/VERIFY/{id}/validate/",
    ],
)
def test_validate_answers_on_every_method_and_spelling_of_the_path(
    client: TestClient, app: VendorApp, method: str, path: str
) -> None:
    request_id = send(client, app).json()["requestId"]
    url = path.replace("{id}", request_id).replace("{ID}", request_id.upper())
    answer = client.request(method, url, json={"code": "000000"}, auth=app.basic)
    assert answer.status_code == 200, answer.text
    assert answer.json()["requestId"] == request_id


@pytest.mark.parametrize("path", ["/webapi/verify", "/WebApi/Verify/SendCode", "/WEBAPI/VERIFY/"])
def test_send_answers_on_every_spelling_of_the_path(
    client: TestClient, app: VendorApp, path: str
) -> None:
    answer = client.post(
        path, json={"from": "Test", "to": new_mobile().lstrip("+")}, auth=app.basic
    )
    assert answer.status_code == 202, answer.text


def test_credentials_as_username_and_password_headers(client: TestClient, app: VendorApp) -> None:
    answer = client.post(
        "/webapi/verify",
        json={"from": "Test", "to": new_mobile().lstrip("+")},
        headers={"username": app.key_id, "password": app.secret},
    )
    assert answer.status_code == 202


@pytest.mark.parametrize(
    "credentials",
    [
        {"auth": ("key_doesnotexist0000000000", "secret")},
        {"auth": ("KEY", "wrong")},
        {"headers": {"Authorization": "Basic !!!not-base64"}},
        {"headers": {"Authorization": "Bearer KEY.SECRET"}},
        {"headers": {"username": "KEY"}},
        {},
    ],
)
def test_bad_credentials_get_the_same_plain_text_whether_the_key_exists_or_not(
    client: TestClient, app: VendorApp, credentials: dict[str, Any]
) -> None:
    if "auth" in credentials and credentials["auth"][0] == "KEY":
        credentials = {"auth": (app.key_id, "wrong")}
    for path, method in (("/webapi/verify", "POST"), ("/webapi/verify/x/validate", "PUT")):
        answer = client.request(method, path, json={"to": "447123123456"}, **credentials)
        assert answer.status_code == 401
        assert answer.text == "No authorization header supplied or invalid username or password"
