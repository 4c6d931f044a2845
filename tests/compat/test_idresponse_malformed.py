"""IDResponse: malformed requests are answered in the vendor's envelope (HTTP 200, or 401 for
credentials), never a 500 and never the native problem JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.cases import named
from support.idresponse import CONTINUE, GATEWAY, IdResponse, assert_envelope

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}

RAW_GATEWAY_BODIES: list[tuple[str, dict[str, str], bytes]] = [
    ("truncated JSON", JSON, b'{"user": "u", "pass": '),
    ("JSON array of two", JSON, b"[{}, {}]"),
    ("JSON scalar", JSON, b"true"),
    ("NaN and Infinity", JSON, b'{"user": "USER", "pass": "PASS", "reference": NaN}'),
    ("deeply nested JSON", JSON, b"[" * 30000 + b"]" * 30000),
    ("invalid UTF-8", JSON, b'{"user": "\xff"}'),
    ("lone surrogate", JSON, b'{"user": "USER", "pass": "PASS", "reference": "\\ud800"}'),
    ("plain text", {"content-type": "text/plain"}, b"PhoneMatch"),
    ("a form without JSON parts", FORM, b"user=USER&pass=PASS&service=PhoneMatch5.0.SMS"),
    ("a form with bad UTF-8", FORM, b"user=%ff"),
]


@pytest.mark.parametrize(
    ("headers", "body"),
    named(RAW_GATEWAY_BODIES),
)
def test_an_unreadable_gateway_body_fails_the_data_check(
    client: TestClient, app: Any, headers: dict[str, str], body: bytes
) -> None:
    body = body.replace(b"USER", app.key_id.encode()).replace(b"PASS", app.secret.encode())
    answer = client.post(GATEWAY, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert_envelope(answer.json(), "FAIL", "DATA CHECK FAILED")


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = body
    for name in parents:
        node = node[name]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return body


class _Deleted:
    """The field left out of the request."""

    def __repr__(self) -> str:  # a stable test id, the same in every process
        return "deleted"


_DELETE = _Deleted()

BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("service", "PhoneMatch4.0", "service"),
    ("service", _DELETE, "service"),
    ("service", 5, "service"),
    ("target", _DELETE, "target"),
    ("target", "2015106000", "target"),
    ("target.phone", _DELETE, "target.phone"),
    ("target.phone", "", "target.phone"),
    ("target.phone", {"n": 1}, "target.phone"),
    ("target.phone", True, "target.phone"),
    ("target.phone", "2" * 1000, "target.phone"),
    ("options", [], "options"),
    ("options.outofband", "sms", "options.outofband"),
    ("options.outofband.message", 5, "options.outofband.message"),
    ("options.outofband.do_not_send_to_types", "voip", "options.outofband.do_not_send_to_types"),
    ("options.outofband.do_not_send_to_types", [1], "options.outofband.do_not_send_to_types"),
    (
        "options.outofband.do_not_send_to_types",
        ["x"] * 301,
        "options.outofband.do_not_send_to_types",
    ),
    ("options.outofband.country", {"blacklist": "US"}, "options.outofband.country.blacklist"),
    ("options.outofband.country", {"whitelist": [None]}, "options.outofband.country.whitelist"),
    ("reference", {"r": 1}, "reference"),
    ("reference", "line\x00break", "reference"),
]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    BAD_FIELDS,
    ids=[f"{path}={value!r}"[:60] for path, value, _ in BAD_FIELDS],
)
def test_a_bad_field_fails_the_data_check_naming_it(
    client: TestClient, app: Any, path: str, value: Any, field: str
) -> None:
    vendor = IdResponse(client, app.key_id, app.secret)
    body = vendor.request("2015106000", message="Hi {fn}: {pin}", types=["voip"], whitelist=["US"])
    answer = vendor.gateway_raw(_set(body, path, value))
    assert_envelope(answer, "FAIL", "DATA CHECK FAILED")
    [issue] = answer["result"]["issues"]
    assert issue.startswith(f"{field}"), issue


def test_a_one_element_json_array_is_read_as_its_object(client: TestClient, app: Any) -> None:
    body = IdResponse(client, app.key_id, app.secret).request("2015106000")
    answer = client.post(GATEWAY, content=json.dumps([body]), headers=JSON)
    assert_envelope(answer.json(), "PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")


def test_unknown_options_and_target_fields_are_ignored(client: TestClient, app: Any) -> None:
    vendor = IdResponse(client, app.key_id, app.secret)
    body = vendor.request("2015106000", address={"city": "Newark"}, dob=None, vip=True)
    body["options"]["kba"] = {"questions": 3}
    body["options"]["outofband"]["channel"] = "sms"
    assert_envelope(vendor.gateway_raw(body), "PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")


@pytest.mark.parametrize("path", [GATEWAY, CONTINUE])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_method_is_answered_in_the_envelope(
    client: TestClient, path: str, method: str
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 200
    assert answer.json()["result"]["action"] == "FAIL"
    assert list(answer.json()) == ["meta", "result", "output"]


@pytest.mark.parametrize(
    ("path", "detail"),
    [(GATEWAY, "DATA CHECK FAILED"), (CONTINUE, "FAILED OUT-OF-BAND CHECK")],
)
def test_a_body_over_64_kib_is_answered_in_the_envelope(
    client: TestClient, path: str, detail: str
) -> None:
    answer = client.post(path.upper(), content=b'{"x": "' + b"x" * 70_000 + b'"}', headers=JSON)
    assert answer.status_code == 200
    assert_envelope(answer.json(), "FAIL", detail)


RAW_CONTINUE_BODIES: list[tuple[str, bytes]] = [
    ("truncated JSON", b'{"token": '),
    ("JSON scalar", b"null"),
    ("empty object", b"{}"),
    ("codematch as a list", b'{"token": "abc", "codematch": []}'),
    ("lone surrogate", b'{"token": "\\udc00", "codematch": {"key": "1"}}'),
    ("empty body", b""),
]


@pytest.mark.parametrize("body", named(RAW_CONTINUE_BODIES))
def test_an_unreadable_continuation_fails_the_check(client: TestClient, body: bytes) -> None:
    answer = client.post(CONTINUE, content=body, headers=JSON)
    assert answer.status_code == 200
    assert_envelope(answer.json(), "FAIL", "FAILED OUT-OF-BAND CHECK")
