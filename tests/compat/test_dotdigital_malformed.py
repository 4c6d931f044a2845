"""Malformed requests to dotdigital's routes: each is answered in the vendor's shape (an array
of ValidationFailure, or the plain-text 401), never a 500 and never native problem JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.cases import named
from support.dotdigital import the_one_failure
from support.numbers import new_mobile
from support.vendor_apps import MakeVendorApp, VendorApp

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def app(vendor_app: MakeVendorApp) -> VendorApp:
    return vendor_app()


def raw(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


def valid(**changes: Any) -> bytes:
    return raw({"from": "Test", "to": new_mobile().lstrip("+"), **changes})


# (case, body, property, failureCode)
SEND_BODIES: list[tuple[str, bytes, str, str]] = [
    ("truncated JSON", b'{"to": "447123123456", "from": "Te', "", "InvalidJson"),
    ("not JSON", b"to=447123123456 from=Test", "", "InvalidJson"),
    ("a JSON string", b'"447123123456"', "", "InvalidJson"),
    ("a JSON number", b"447123123456", "", "InvalidJson"),
    ("an empty array", b"[]", "", "InvalidJson"),
    ("an array of two", b'[{"to": "1"}, {"to": "2"}]', "", "InvalidJson"),
    ("an array of a number", b"[1]", "", "InvalidJson"),
    ("not UTF-8", b'{"to": "\xff\xfe", "from": "Test"}', "", "InvalidJson"),
    ("deep nesting", b"[" * 30000 + b"]" * 30000, "", "InvalidJson"),
    ("to is an object", raw({"to": {"number": "447123123456"}, "from": "Test"}), "to", "ToInvalid"),
    ("to is a list", raw({"to": ["447123123456"], "from": "Test"}), "to", "ToInvalid"),
    ("to is true", raw({"to": True, "from": "Test"}), "to", "ToInvalid"),
    ("to is a float", raw({"to": 4.47e11, "from": "Test"}), "to", "ToInvalid"),
    ("to is NaN", b'{"to": NaN, "from": "Test"}', "to", "ToInvalid"),
    ("to is a long number", b'{"to": ' + b"9" * 400 + b', "from": "Test"}', "to", "ToInvalid"),
    # past Python's 4300 digits for an int, the body is not readable JSON at all
    ("to is a huge number", b'{"to": ' + b"9" * 5000 + b', "from": "Test"}', "", "InvalidJson"),
    ("to is huge text", raw({"to": "4" * 20000, "from": "Test"}), "to", "ToInvalid"),
    ("to is a lone surrogate", b'{"to": "\\ud800", "from": "Test"}', "to", "ToInvalid"),
    ("to has a NUL", raw({"to": "44712\x003123456", "from": "Test"}), "to", "ToInvalid"),
    ("from is a list", valid(**{"from": ["Test"]}), "from", "FromContainsDisallowedCharacters"),
    ("from is huge", valid(**{"from": "A" * 60000}), "from", "FromExceedsMaxTextLength"),
    ("from has a surrogate", b'{"to": "447123123456", "from": "T\\udc00st"}', "from",
     "FromContainsDisallowedCharacters"),
    ("body is a number", valid(body=5), "body", "BodyInvalid"),
    ("body is an object", valid(body={"text": "{{code}}"}), "body", "BodyInvalid"),
    ("body is too long", valid(body="x" * 5000 + "{{code}}"), "body", "BodyInvalid"),
    ("body has a NUL", valid(body="\x00{{code}}"), "body", "BodyInvalid"),
    ("validUntil is words", valid(validUntil="tomorrow"), "validUntil", "InvalidJson"),
    ("validUntil is a number", valid(validUntil=1445434086), "validUntil", "InvalidJson"),
    ("validUntil is huge", valid(validUntil="2" * 1000), "validUntil", "InvalidJson"),
    ("country is a list", valid(countryIsoCode=["GBR"]), "countryIsoCode", "CountryIsoCodeInvalid"),
    ("country is long", valid(countryIsoCode="GBRR"), "countryIsoCode", "CountryIsoCodeInvalid"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "property_name", "code"), named(SEND_BODIES))
def test_a_malformed_send_is_one_validation_failure(
    client: TestClient, app: VendorApp, body: bytes, property_name: str, code: str
) -> None:
    answer = client.post("/webapi/verify", content=body, headers=JSON, auth=app.basic)
    failure = the_one_failure(answer)
    assert (failure["property"], failure["failureCode"]) == (property_name, code)
    assert failure["details"]


# (case, body, property, failureCode)
VALIDATE_BODIES: list[tuple[str, bytes, str, str]] = [
    ("truncated JSON", b'{"code": "12', "", "InvalidJson"),
    ("a JSON list of two", b'[{"code": "1"}, {"code": "2"}]', "", "InvalidJson"),
    ("code is a list", raw({"code": ["123456"]}), "verifyCode", "CodeInvalid"),
    ("code is an object", raw({"code": {"value": "123456"}}), "verifyCode", "CodeInvalid"),
    ("code is huge", raw({"code": "1" * 50000}), "verifyCode", "CodeInvalid"),
    ("code is a lone surrogate", b'{"code": "\\ud800"}', "verifyCode", "CodeInvalid"),
    ("code is not ASCII", raw({"code": "١٢٣٤٥٦"}), "verifyCode", "CodeInvalid"),
]


@pytest.mark.parametrize(("body", "property_name", "code"), named(VALIDATE_BODIES))
def test_a_malformed_validation_is_one_failure_and_counts_nothing(
    client: TestClient, app: VendorApp, body: bytes, property_name: str, code: str
) -> None:
    request_id = client.post("/webapi/verify", content=valid(), headers=JSON, auth=app.basic)
    path = f"/webapi/verify/{request_id.json()['requestId']}/validate"
    answer = client.put(path, content=body, headers=JSON, auth=app.basic)
    failure = the_one_failure(answer)
    assert (failure["property"], failure["failureCode"]) == (property_name, code)
    assert app.native.list().json()["verifications"][0]["attempts"] == 0


def test_a_code_sent_as_a_json_number_is_read_as_its_digits(
    client: TestClient, app: VendorApp
) -> None:
    request_id = client.post("/webapi/verify", content=valid(), headers=JSON, auth=app.basic)
    path = f"/webapi/verify/{request_id.json()['requestId']}/validate"
    answer = client.put(path, content=b'{"code": 123456}', headers=JSON, auth=app.basic)
    assert answer.status_code == 200
    assert app.native.list().json()["verifications"][0]["attempts"] == 1


def test_a_body_over_64_kib_is_refused_in_the_vendor_shape(
    client: TestClient, app: VendorApp
) -> None:
    answer = client.post(
        "/WebApi/Verify", content=valid(body="x" * 70000), headers=JSON, auth=app.basic
    )
    assert the_one_failure(answer)["failureCode"] == "InvalidJson"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "to={to}&from=Test"),
        ("text/plain", '{{"to": "{to}", "from": "Test"}}'),
        ("", '{{"to": "{to}", "from": "Test"}}'),
        ("application/json", '{{"to": "{to}", "from": "Test",}}'),
        ("application/json", '// sent by a .NET client\n{{"to": \'{to}\', "from": "Test"}}'),
    ],
    ids=["url-encoded", "JSON as text/plain", "JSON without a type", "trailing comma", "comment"],
)
def test_bodies_are_read_as_their_clients_send_them(
    client: TestClient, app: VendorApp, content_type: str, body: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    to = new_mobile().lstrip("+")
    answer = client.post(
        "/webapi/verify", content=body.format(to=to).encode(), headers=headers, auth=app.basic
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["phoneNumber"] == to


@pytest.mark.parametrize(
    ("content_type", "code"),
    [
        # a truncated part is no field at all
        ("multipart/form-data; boundary=xyz", "ToEmpty"),
        ("multipart/form-data", "InvalidJson"),
        ("multipart/form-data; boundary=", "InvalidJson"),
    ],
)
def test_a_broken_multipart_form_is_refused_in_the_vendor_shape(
    client: TestClient, app: VendorApp, content_type: str, code: str
) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="to"\r\n\r\n4471'
    answer = client.post(
        "/webapi/verify", content=body, headers={"Content-Type": content_type}, auth=app.basic
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()[0]["failureCode"] == code


def test_a_multipart_form_is_read(client: TestClient, app: VendorApp) -> None:
    to = new_mobile().lstrip("+")
    answer = client.post(
        "/webapi/verify", data={"to": to, "from": "Test"}, files={}, auth=app.basic
    )
    assert answer.status_code == 202, answer.text
    multipart = client.post(
        "/webapi/verify",
        files={"to": (None, new_mobile().lstrip("+")), "from": (None, "Test")},
        auth=app.basic,
    )
    assert multipart.status_code == 202, multipart.text


@pytest.mark.parametrize(
    ("method", "path", "status", "text"),
    [
        ("DELETE", "/webapi/verify", 405, "Method Not Allowed"),
        ("GET", "/WebApi/Verify/SendCode", 405, "Method Not Allowed"),
        ("POST", "/webapi/nothing/here", 404, "Not Found"),
        ("POST", "/webapi/verify//validate", 404, "Not Found"),
    ],
)
def test_unknown_routes_and_methods_under_webapi_answer_plain_text(
    client: TestClient, app: VendorApp, method: str, path: str, status: int, text: str
) -> None:
    answer = client.request(method, path, auth=app.basic)
    assert answer.status_code == status
    assert answer.text == text
    assert "problem" not in answer.headers["content-type"]


def test_a_malformed_body_without_credentials_is_401(client: TestClient) -> None:
    answer = client.post("/webapi/verify", content=b"{broken", headers=JSON)
    assert answer.status_code == 401
    assert answer.text == "No authorization header supplied or invalid username or password"
