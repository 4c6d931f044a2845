"""99 digital's own examples (seed 002) replayed against a real `otpgate serve` process.

The page prints no code samples, only the form fields with their example values and the two
sample answers; the requests here are those fields, as form-data (the page's method) and
url-encoded, and the answers are compared with the page's samples field by field.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.ninety_nine import NinetyNine
from support.numbers import israeli_e164
from support.outbox import read_code
from support.served import ServedOtpgate, serving

# verbatim from the page
PAGE_SEND_ANSWER = """{
"status": "OK",
"unique": "63433453",
"timestamp": 1600115719,
"from": "0501234567",
"reason": 1
}"""
PAGE_CHECK_ANSWER = """{
"status": 1,
"phone": "0501234567",
}"""
PAGE_TO = "0501234567"  # "to ... example: 0501234567"
PAGE_FROM = "0501234567"  # the sample answer's sender
ASSIGNED_TO = "0502345678"  # 050-1 is not an assigned range, so the flow uses 050-2


def page_answer(text: str) -> dict[str, Any]:
    # the page's Check sample has a trailing comma, which JSON does not allow
    parsed: dict[str, Any] = json.loads(re.sub(r",\s*}", "}", text))
    return parsed


def assert_same_shape(answer: dict[str, Any], sample: dict[str, Any]) -> None:
    assert list(answer) == list(sample)
    for name, value in sample.items():
        assert type(answer[name]) is type(value), (name, answer[name], value)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    with serving(tmp_path_factory.mktemp("ninety-nine")) as otpgate:
        yield otpgate


@pytest.fixture(scope="module")
def api_key(served: ServedOtpgate) -> str:
    assert served.first_start is not None
    key: str = served.first_start["api_key"]
    return key


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_the_pages_send_request_as_printed_answers_in_the_pages_shape(
    served: ServedOtpgate, api_key: str, encoding: str
) -> None:
    fields = {"apiKey": api_key, "from": PAGE_FROM, "to": PAGE_TO}
    answer = NinetyNine(served.http, api_key).post(fields, encoding=encoding)
    assert_same_shape(answer, page_answer(PAGE_SEND_ANSWER))
    # the page's number is in a range no operator was assigned: refused as "other failure"
    assert (answer["status"], answer["unique"], answer["from"], answer["reason"]) == (
        "FAIL",
        "",
        PAGE_FROM,
        5,
    )
    assert abs(answer["timestamp"] - time.time()) < 60


def test_the_pages_send_and_check_with_an_assigned_number_answer_as_the_page_shows(
    served: ServedOtpgate, api_key: str
) -> None:
    vendor = NinetyNine(served.http, api_key)
    sent = vendor.post(
        {"apiKey": api_key, "from": PAGE_FROM, "to": ASSIGNED_TO}, encoding="multipart"
    )
    assert_same_shape(sent, page_answer(PAGE_SEND_ANSWER))
    assert (sent["status"], sent["from"], sent["reason"]) == ("OK", PAGE_FROM, 1)
    assert sent["unique"].startswith("msg_")
    assert abs(sent["timestamp"] - time.time()) < 60

    headers = {"Authorization": f"Bearer {api_key}"}
    code = read_code(served.http, headers, israeli_e164(ASSIGNED_TO))
    checked = vendor.post(
        {"apiKey": api_key, "to": ASSIGNED_TO, "code": code}, encoding="multipart"
    )
    assert_same_shape(checked, page_answer(PAGE_CHECK_ANSWER))
    assert checked == {"status": 1, "phone": ASSIGNED_TO}
    again = vendor.post({"apiKey": api_key, "to": ASSIGNED_TO, "code": code})
    assert again == {"status": 4, "phone": ASSIGNED_TO}  # "a code can be used only once"


def test_the_pages_check_request_for_the_pages_number_finds_nothing_to_check(
    served: ServedOtpgate, api_key: str
) -> None:
    answer = NinetyNine(served.http, api_key).post(
        {"apiKey": api_key, "to": PAGE_TO, "code": "123456"}, encoding="multipart"
    )
    assert_same_shape(answer, page_answer(PAGE_CHECK_ANSWER))
    assert answer == {"status": 4, "phone": PAGE_TO}


@pytest.mark.parametrize("path", ["/sms/verifySMS", "/SMS/VERIFYSMS", "/sms/verifysms"])
def test_the_path_matches_in_any_case(served: ServedOtpgate, api_key: str, path: str) -> None:
    answer = served.http.post(path, data={"apiKey": "wrong", "from": "Shop", "to": ASSIGNED_TO})
    assert answer.status_code == 200
    assert answer.json()["reason"] == 6


def test_a_json_body_is_read_like_a_form(served: ServedOtpgate, api_key: str) -> None:
    answer = NinetyNine(served.http, api_key).post(
        {"apiKey": api_key, "from": "Shop", "to": "0502345699"}, encoding="json"
    )
    assert (answer["status"], answer["reason"]) == ("OK", 1)


def test_the_vendor_route_stays_out_of_the_native_openapi(served: ServedOtpgate) -> None:
    paths = served.http.get("/openapi.json").json()["paths"]
    assert not any(path.lower() == "/sms/verifysms" for path in paths)


def test_the_served_log_holds_no_code(served: ServedOtpgate, api_key: str, tmp_path: Path) -> None:
    vendor = NinetyNine(served.http, api_key)
    to = "0502345611"
    vendor.post({"apiKey": api_key, "from": "Shop", "to": to})
    code = read_code(served.http, {"Authorization": f"Bearer {api_key}"}, israeli_e164(to))
    vendor.post({"apiKey": api_key, "to": to, "code": code})
    assert code not in served.logs()
    assert api_key.split(".")[1] not in served.logs()
