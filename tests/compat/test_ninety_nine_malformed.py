"""99 digital: malformed requests are answered in the vendor's shape, HTTP 200, never a 500
and never the native problem JSON."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.cases import named
from support.ninety_nine import CHECK_KEYS, PATH, SEND_KEYS

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
BOUNDARY = "b0undary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def multipart(*parts: str) -> bytes:
    return "".join(f"--{BOUNDARY}\r\n{part}\r\n" for part in parts).encode() + (
        f"--{BOUNDARY}--\r\n".encode()
    )


SEND_FAILURES: list[tuple[str, dict[str, str], bytes]] = [
    ("truncated JSON", JSON, b'{"apiKey": "x", "to": '),
    ("JSON array of two", JSON, b'[{"to": "0502345678"}, {"to": "0502345679"}]'),
    ("JSON scalar", JSON, b"42"),
    ("NaN and Infinity", JSON, b'{"apiKey": "KEY", "from": NaN, "to": Infinity}'),
    ("JSON string", JSON, b'"to=0502345678"'),
    ("deeply nested JSON", JSON, b"[" * 30000 + b"]" * 30000),
    ("lone surrogate", JSON, b'{"apiKey": "KEY", "from": "Shop", "to": "\\ud800"}'),
    ("invalid UTF-8 in JSON", JSON, b'{"to": "\xff"}'),
    ("invalid UTF-8 in a form", FORM, b"apiKey=KEY&from=Shop&to=%ff"),
    ("surrogate bytes in a form", FORM, b"apiKey=KEY&from=Shop&to=%ed%a0%80"),
    ("plain text", {"content-type": "text/plain"}, b"hello"),
    ("no content type, not JSON", {}, b"apiKey=KEY"),
    ("broken multipart", MULTIPART, b"--b0undary\r\nContent-Disposition: form-data\r\n\r\nx"),
    (
        "a file in the form",
        MULTIPART,
        multipart('Content-Disposition: form-data; name="to"; filename="to.txt"\r\n\r\n0502345678'),
    ),
    ("to as an object", JSON, b'{"apiKey": "KEY", "from": "Shop", "to": {"n": 1}}'),
    ("to as true", JSON, b'{"apiKey": "KEY", "from": "Shop", "to": true}'),
    ("to as a float", JSON, b'{"apiKey": "KEY", "from": "Shop", "to": 502345678.0}'),
    ("from as a list", JSON, b'{"apiKey": "KEY", "from": ["Shop"], "to": "0502345678"}'),
    ("NUL in to", FORM, b"apiKey=KEY&from=Shop&to=050234%005678"),
    ("NUL in from", FORM, b"apiKey=KEY&from=Sh%00op&to=0502345678"),
    (
        "control character in message",
        FORM,
        b"apiKey=KEY&from=Shop&to=0502345678&message=%1b##code##",
    ),
    (
        "message over 480 characters",
        FORM,
        b"apiKey=KEY&from=Shop&to=0502345678&message=##code##" + b"x" * 600,
    ),
    ("a 1000-digit to", FORM, b"apiKey=KEY&from=Shop&to=" + b"5" * 1000),
]


@pytest.mark.parametrize(
    ("headers", "body"),
    named(SEND_FAILURES),
)
def test_a_malformed_send_is_a_failed_send(
    client: TestClient, app: Any, headers: dict[str, str], body: bytes
) -> None:
    answer = client.post(PATH, content=body.replace(b"KEY", app.api_key.encode()), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == SEND_KEYS
    assert (answer.json()["status"], answer.json()["reason"]) == ("FAIL", 5)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_method_is_a_failed_send(client: TestClient, method: str) -> None:
    answer = client.request(method, PATH)
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["reason"]) == ("FAIL", 5)


def test_a_body_over_64_kib_is_a_failed_send(client: TestClient, app: Any) -> None:
    body = f"apiKey={app.api_key}&from=Shop&to=0502345678&message=".encode() + b"x" * 70_000
    answer = client.post("/SMS/verifySMS", content=body, headers=FORM)
    assert answer.status_code == 200
    assert set(answer.json()) == SEND_KEYS and answer.json()["reason"] == 5


def test_a_one_element_json_array_is_read_as_its_object(client: TestClient, app: Any) -> None:
    body = [{"apiKey": app.api_key, "from": "Shop", "to": "0502345678"}]
    answer = client.post(PATH, json=body)
    assert (answer.json()["status"], answer.json()["reason"]) == ("OK", 1)


CHECK_FAILURES: list[tuple[str, dict[str, Any], int]] = [
    ("code as an object", {"to": "0502345678", "code": {"a": 1}}, 2),
    ("code as a list", {"to": "0502345678", "code": ["123456"]}, 2),
    ("code of 65 characters", {"to": "0502345678", "code": "1" * 65}, 2),
    ("code with a control character", {"to": "0502345678", "code": "12\x003456"}, 2),
    ("code of non-ASCII digits", {"to": "0502345678", "code": "١٢٣٤٥٦"}, 2),
    ("code null", {"to": "0502345678", "code": None}, 8),
    ("to as an object", {"to": {"n": 1}, "code": "123456"}, 4),
    ("to of letters", {"to": "call me", "code": "123456"}, 4),
]


@pytest.mark.parametrize(
    ("fields", "status"),
    named(CHECK_FAILURES),
)
def test_a_malformed_check_is_answered_with_a_check_status(
    client: TestClient, app: Any, fields: dict[str, Any], status: int
) -> None:
    client.post(PATH, data={"apiKey": app.api_key, "from": "Shop", "to": "0502345678"})
    answer = client.post(PATH, json={"apiKey": app.api_key, **fields})
    assert answer.status_code == 200
    assert set(answer.json()) == CHECK_KEYS
    assert answer.json()["status"] == status
