"""IDResponse's own examples (seed 003) replayed against a real `otpgate serve` process.

The page prints two JSON bodies and no answers; the answers are checked against the envelope
the contract gives. The initial request is replayed as printed (with its `//` comments, which
JSON does not allow), then as a client would really send it: comments gone, and, one step at a
time, the credentials and the placeholder country codes replaced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from support.idresponse import CONTINUE, GATEWAY, IdResponse, assert_envelope
from support.outbox import read_code
from support.served import ServedOtpgate, serving

# verbatim from the page, including its comments and its e-mail-protected user name
INITIAL_REQUEST_AS_PRINTED = """{
"user": "[email protected]",
"pass": "PASSWORD",
"service": "PhoneMatch5.0.SMS",
"reference": "12345",
"options": {
"outofband": {
"message": "Hello {fn}, your one-time password is {pin}",
"do_not_send_to_types": ["voip", "mobile", "landline"],
"country": {
"blacklist": ["ISO2 Country Code"], //countries you do not want to send codes
"whitelist": ["ISO2 Country Code"] //countries you only want to send codes
}
}
},
"target": {
"fn": "John",
"ln": "Smith",
"phone": "2015106000"
}
}"""
CONTINUE_REQUEST_AS_PRINTED = """{
"token": "o76m3nvz94jvaatfsmespzgx3qkzjjl1",
"codematch": {
"key": "12345"
}
}"""
PAGE_PHONE_E164 = "+12015106000"
JSON_HEADERS = {"content-type": "application/json"}


def without_comments(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(re.sub(r"//[^\n]*", "", text))
    return parsed


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    with serving(tmp_path_factory.mktemp("idresponse")) as otpgate:
        yield otpgate


@pytest.fixture(scope="module")
def credentials(served: ServedOtpgate) -> dict[str, str]:
    assert served.first_start is not None
    key_id, secret = served.first_start["api_key"].split(".", 1)
    return {"user": key_id, "pass": secret}


def post(served: ServedOtpgate, path: str, body: str | dict[str, Any]) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return served.http.post(path, content=text.encode(), headers=JSON_HEADERS)


def test_the_initial_request_as_printed_is_not_json_and_fails_the_data_check(
    served: ServedOtpgate,
) -> None:
    answer = post(served, GATEWAY, INITIAL_REQUEST_AS_PRINTED)
    assert answer.status_code == 200
    assert_envelope(answer.json(), "FAIL", "DATA CHECK FAILED")
    assert "not valid JSON" in answer.json()["result"]["issues"][0]


def test_the_initial_request_with_the_pages_credentials_is_401_in_the_envelope(
    served: ServedOtpgate,
) -> None:
    answer = post(served, GATEWAY, json.dumps(without_comments(INITIAL_REQUEST_AS_PRINTED)))
    assert answer.status_code == 401
    body = answer.json()
    assert_envelope(body, "FAIL", "AUTHENTICATION FAILED")
    assert body["meta"]["user"] == "[email protected]"
    assert body["meta"]["reference"] == "12345"
    assert body["meta"]["confirmation"] is None and body["meta"]["company"] is None


def test_the_initial_request_with_real_credentials_refuses_the_placeholder_countries(
    served: ServedOtpgate, credentials: dict[str, str]
) -> None:
    body = {**without_comments(INITIAL_REQUEST_AS_PRINTED), **credentials}
    answer = post(served, GATEWAY, body)
    assert answer.status_code == 200
    assert_envelope(answer.json(), "FAIL", "DATA CHECK FAILED")
    [issue] = answer.json()["result"]["issues"]
    assert issue.startswith("options.outofband.country.")
    assert "'ISO2 Country Code'" in issue


def with_countries(body: dict[str, Any], blacklist: list[str], whitelist: list[str]) -> None:
    body["options"]["outofband"]["country"] = {"blacklist": blacklist, "whitelist": whitelist}


def test_the_initial_request_with_real_countries_suppresses_a_number_of_any_excluded_type(
    served: ServedOtpgate, credentials: dict[str, str]
) -> None:
    # a US number may be a landline or a mobile: excluding both leaves nothing to send to
    body = {**without_comments(INITIAL_REQUEST_AS_PRINTED), **credentials}
    with_countries(body, ["CA"], ["US"])
    answer = post(served, GATEWAY, body)
    assert answer.status_code == 200
    assert_envelope(answer.json(), "FAIL", "SUPPRESSED SENDING CODE")
    assert answer.json()["meta"]["company"] == "default"
    assert answer.json()["meta"]["user"] == credentials["user"]


def test_the_full_sample_flow_pends_then_passes_with_the_continuation(
    served: ServedOtpgate, credentials: dict[str, str]
) -> None:
    body = {**without_comments(INITIAL_REQUEST_AS_PRINTED), **credentials}
    with_countries(body, ["CA"], ["US"])
    body["options"]["outofband"]["do_not_send_to_types"] = ["voip"]
    answer = post(served, GATEWAY, body)
    assert answer.status_code == 200
    started = answer.json()
    assert_envelope(started, "PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")
    assert started["result"]["issues"] == []
    assert started["meta"]["reference"] == "12345"
    assert started["meta"]["confirmation"].startswith("ver_")

    headers = {"Authorization": f"Bearer {credentials['user']}.{credentials['pass']}"}
    code = read_code(served.http, headers, PAGE_PHONE_E164)
    messages = served.http.get("/v1/dev/outbox", params={"to": PAGE_PHONE_E164}, headers=headers)
    assert messages.json()["messages"][0]["body"] == (
        f"Hello John, your one-time password is {code}"
    )

    # the page's own continuation names a token this server never gave
    printed = post(served, CONTINUE, CONTINUE_REQUEST_AS_PRINTED)
    assert printed.status_code == 200
    assert_envelope(printed.json(), "FAIL", "FAILED OUT-OF-BAND CHECK")
    assert printed.json()["result"]["issues"] == ["UNKNOWN TOKEN"]

    # the continuation as the page describes it: the returned template, with the user's entry
    template = started["continuations"]["outofband"]["template"]
    template["codematch"]["key"] = code
    passed = post(served, started["continuations"]["outofband"]["url"], template)
    assert passed.status_code == 200
    assert_envelope(passed.json(), "PASS", "ALL CHECKS PASSED")
    assert passed.json()["meta"]["confirmation"] == started["meta"]["confirmation"]
    assert passed.json()["meta"]["reference"] == "12345"

    again = post(served, CONTINUE, template)
    assert again.json()["result"]["issues"] == ["CODE ALREADY USED"]
    native = served.http.get(
        f"/v1/verifications/{started['meta']['confirmation']}", headers=headers
    )
    assert native.json()["status"] == "approved"
    assert code not in served.logs()
    assert template["token"] not in served.logs()


@pytest.mark.parametrize("path", ["/PROCESS/Comprehensive/Gateway", "/process/CONTINUE"])
def test_the_paths_match_in_any_case(served: ServedOtpgate, path: str) -> None:
    answer = post(served, path, {"token": "x", "codematch": {"key": "1"}})
    assert answer.status_code in (200, 401)
    assert list(answer.json()) == ["meta", "result", "output"]


def test_the_helper_builds_requests_like_the_pages(
    served: ServedOtpgate, credentials: dict[str, str]
) -> None:
    built = IdResponse(served.http, credentials["user"], credentials["pass"]).request("2015106000")
    assert set(built) == set(without_comments(INITIAL_REQUEST_AS_PRINTED))
