"""dotdigital's printed samples (Verify and Validate Code pages), replayed as printed against a
real `otpgate serve`, each answer held to the printed answer's shape field by field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from compat import samples
from compat.sample_requests import (
    SampleRequest,
    from_csharp,
    from_curl,
    from_java,
    from_jquery,
    from_php,
)
from support.outbox import read_code
from support.served import ServedOtpgate
from support.vendor_apps import MakeVendorApp, VendorApp

pytestmark = pytest.mark.e2e

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
UTC_MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SAMPLE_NUMBER = "+447979080215"
SAMPLE_REQUEST_ID = "55569B50-785F-4865-9769-ED1E21CF6A88"
CSHARP_REQUEST_ID = "0D5C94D4-DF1F-4FC8-82D2-1F64EA548704"

Reader = Callable[[str, str, str], SampleRequest]

SEND_SAMPLES: dict[str, tuple[Reader, str]] = {
    "curl": (from_curl, samples.DOTDIGITAL_SEND_CURL),
    "C# RestSharp": (from_csharp, samples.DOTDIGITAL_SEND_CSHARP),
    "curl (comapi host)": (from_curl, samples.DOTDIGITAL_SEND_CURL_COMAPI),
    "Java Unirest": (from_java, samples.DOTDIGITAL_SEND_JAVA),
    "jQuery": (from_jquery, samples.DOTDIGITAL_SEND_JQUERY),
    "PHP (sendcode)": (from_php, samples.DOTDIGITAL_SEND_PHP),
}
BODILESS_VALIDATE_SAMPLES: dict[str, tuple[Reader, str]] = {
    "curl (comapi host)": (from_curl, samples.DOTDIGITAL_VALIDATE_CURL_COMAPI),
    "Java Unirest": (from_java, samples.DOTDIGITAL_VALIDATE_JAVA),
    "jQuery": (from_jquery, samples.DOTDIGITAL_VALIDATE_JQUERY),
    "PHP": (from_php, samples.DOTDIGITAL_VALIDATE_PHP),
}


def replay(served: ServedOtpgate, request: SampleRequest) -> httpx.Response:
    return served.http.request(
        request.method, request.path, headers=request.headers, content=request.body
    )


def printed(text: str) -> Any:
    return json.loads(text)


def assert_verify_code_like_printed(body: dict[str, Any]) -> None:
    expected = printed(samples.DOTDIGITAL_SEND_ANSWER)
    assert set(body) == set(expected)
    assert GUID.match(body["requestId"]) and GUID.match(expected["requestId"])
    assert body["phoneNumber"] == expected["phoneNumber"]
    # the example says CodeUnverified, the page's table CodeNotVerified: compat.md keeps the table
    assert body["status"] == "CodeNotVerified"
    assert body["numberStatus"] == expected["numberStatus"]
    assert UTC_MILLISECONDS.match(body["created"]) and UTC_MILLISECONDS.match(expected["created"])


def sent(served: ServedOtpgate, app: VendorApp) -> dict[str, Any]:
    answer = replay(served, from_curl(samples.DOTDIGITAL_SEND_CURL, app.key_id, app.secret))
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("sample", SEND_SAMPLES)
def test_every_printed_send_sample_gets_a_verify_code_like_the_printed_one(
    sample: str, served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    read, snippet = SEND_SAMPLES[sample]
    answer = replay(served, read(snippet, app.key_id, app.secret))
    assert answer.status_code == 202, answer.text
    assert_verify_code_like_printed(answer.json())
    assert read_code(served.http, app.native.headers, SAMPLE_NUMBER).isdigit()


def test_the_bad_number_sample_gets_a_to_invalid_failure_like_the_printed_one(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    request = from_curl(samples.DOTDIGITAL_BAD_NUMBER_CURL, app.key_id, app.secret)
    answer = replay(served, request)
    assert answer.status_code == 400
    [failure] = answer.json()
    [expected] = printed(samples.DOTDIGITAL_BAD_NUMBER_ANSWER)
    assert set(failure) == set(expected)
    assert failure["failureCode"] == expected["failureCode"] == "ToInvalid"
    # the printed answer names "from" for a bad "to"; the property at fault is "to"
    assert failure["property"] == "to"
    assert isinstance(failure["details"], str) and failure["details"]


@pytest.mark.parametrize(
    "snippet",
    [samples.DOTDIGITAL_SEND_NO_AUTH_CURL, samples.DOTDIGITAL_VALIDATE_NO_AUTH_CURL],
    ids=["send", "validate"],
)
def test_the_samples_without_credentials_get_the_printed_plain_text(
    snippet: str, served: ServedOtpgate
) -> None:
    answer = replay(served, from_curl(snippet, "unused", "unused"))
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == samples.DOTDIGITAL_NO_AUTH_ANSWER


def test_the_validate_sample_as_printed_names_an_unknown_request_id_so_gets_204(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    answer = replay(served, from_curl(samples.DOTDIGITAL_VALIDATE_CURL, app.key_id, app.secret))
    assert answer.status_code == 204
    assert answer.content == b""


def test_the_validate_sample_on_a_live_request_id_answers_like_the_printed_answers(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    verify_code = sent(served, app)
    request = from_curl(samples.DOTDIGITAL_VALIDATE_CURL, app.key_id, app.secret).with_path(
        SAMPLE_REQUEST_ID, verify_code["requestId"].upper()
    )
    wrong = replay(served, request)  # the sample's 12345 is not the 6-digit code sent
    assert wrong.status_code == 200
    assert wrong.json()["status"] == printed(samples.DOTDIGITAL_NOT_VERIFIED_ANSWER)["status"]
    code = read_code(served.http, app.native.headers, SAMPLE_NUMBER)
    right = replay(served, request.with_body(json.dumps({"code": code}).encode()))
    assert right.status_code == 200
    body = right.json()
    assert body["status"] == printed(samples.DOTDIGITAL_VERIFIED_ANSWER)["status"]
    assert {key: body[key] for key in ("requestId", "phoneNumber", "numberStatus")} == {
        "requestId": verify_code["requestId"],
        "phoneNumber": "447979080215",
        "numberStatus": "On",
    }
    assert body["created"] == verify_code["created"]
    assert UTC_MILLISECONDS.match(body["verified"])
    # single use: the id now acts as if it did not exist
    assert replay(served, request.with_body(json.dumps({"code": code}).encode())).status_code == 204


def test_the_no_code_sample_gets_exactly_the_printed_failure(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    answer = replay(served, from_curl(samples.DOTDIGITAL_NO_CODE_CURL, app.key_id, app.secret))
    assert answer.status_code == 400
    assert answer.json() == printed(samples.DOTDIGITAL_NO_CODE_ANSWER)


def test_the_csharp_validate_sample_gets_204_as_printed_and_an_answer_on_a_live_id(
    served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    request = from_csharp(samples.DOTDIGITAL_VALIDATE_CSHARP, app.key_id, app.secret)
    assert request.method == "POST"
    assert replay(served, request).status_code == 204
    verify_code = sent(served, app)
    live = replay(served, request.with_path(CSHARP_REQUEST_ID, verify_code["requestId"]))
    assert live.status_code == 200
    assert live.json()["status"] == printed(samples.DOTDIGITAL_NOT_VERIFIED_ANSWER)["status"]


@pytest.mark.parametrize("sample", BODILESS_VALIDATE_SAMPLES)
def test_the_validate_samples_that_send_no_body_get_the_printed_code_empty_failure(
    sample: str, served: ServedOtpgate, served_app: MakeVendorApp
) -> None:
    app = served_app()
    read, snippet = BODILESS_VALIDATE_SAMPLES[sample]
    request = read(snippet, app.key_id, app.secret)
    assert request.method == "GET" and request.body is None
    answer = replay(served, request)
    assert answer.status_code == 400
    assert answer.json() == printed(samples.DOTDIGITAL_NO_CODE_ANSWER)
