"""IDResponse: every result of the contract for the gateway request and for /process/continue,
over the in-process app with a fake clock (expiry without sleeping)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.idresponse import IdResponse, assert_envelope
from support.native import NativeApi
from support.numbers import UK_LANDLINE, UK_UNASSIGNED, new_mobile
from support.outbox import read_code, wait_for_messages, wrong_code

from otpgate.config import Settings
from otpgate.runtime import Runtime
from otpgate.service.verifications import VendorAlias
from otpgate.store.tables import metadata

UK_VOIP = "+445612345678"
US_NUMBER = "2015106000"  # national, as the vendor's page writes it
US_E164 = "+12015106000"
PENDING = ("PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")
SUPPRESSED = ("FAIL", "SUPPRESSED SENDING CODE")
DATA_CHECK_FAILED = ("FAIL", "DATA CHECK FAILED")
NOT_SENT = ("FAIL", "FAILED TO SEND TO NUMBER")
CHECK_FAILED = ("FAIL", "FAILED OUT-OF-BAND CHECK")
PASSED = ("PASS", "ALL CHECKS PASSED")


@pytest.fixture
def vendor(client: TestClient, app: Any) -> IdResponse:
    return IdResponse(client, app.key_id, app.secret)


@pytest.fixture
def vendor_with(client: TestClient, make_app: Any) -> Callable[..., IdResponse]:
    def make(**settings: Any) -> IdResponse:
        handle = make_app(settings)
        return IdResponse(client, handle.key_id, handle.secret)

    return make


def result_of(body: dict[str, Any]) -> tuple[str, str]:
    return body["result"]["action"], body["result"]["detail"]


# --- the gateway request ------------------------------------------------------------------


def test_pending_names_the_verification_the_app_and_the_key(
    vendor: IdResponse, client: TestClient, app: Any
) -> None:
    body = vendor.gateway(US_NUMBER)
    assert_envelope(body, *PENDING)
    assert body["meta"]["company"] == app.name
    assert body["meta"]["user"] == app.key_id
    assert body["meta"]["reference"] == "ref-1"
    native = NativeApi(client, app.headers).get(body["meta"]["confirmation"]).json()
    assert (native["status"], native["to"], native["reference"]) == ("pending", US_E164, "ref-1")


def test_the_default_message_carries_the_code(
    vendor: IdResponse, client: TestClient, app: Any
) -> None:
    vendor.pending(US_NUMBER)
    [message] = wait_for_messages(client, app.headers, US_E164)
    code = read_code(client, app.headers, US_E164)
    assert message["body"] == f"Your one-time password is {code}"


def test_the_message_names_target_fields_once_and_leaves_unknown_names(
    vendor: IdResponse, client: TestClient, app: Any
) -> None:
    vendor.pending(
        US_NUMBER,
        message="{fn} {ln} ({account}) {nickname}: {pin}, again {pin}",
        fn="{pin}",
        account=42,
    )
    [message] = wait_for_messages(client, app.headers, US_E164)
    code = message["body"].rsplit(" ", 1)[1]
    assert message["body"] == f"{{pin}} Smith (42) {{nickname}}: {code}, again {code}"


@pytest.mark.parametrize("message", ["", "  ", None])
def test_an_empty_message_is_the_default(
    vendor: IdResponse, client: TestClient, app: Any, message: str | None
) -> None:
    vendor.pending(US_NUMBER, message=message)
    code = read_code(client, app.headers, US_E164)
    [sent] = wait_for_messages(client, app.headers, US_E164)
    assert sent["body"] == f"Your one-time password is {code}"


@pytest.mark.parametrize(
    ("types", "to"),
    [
        (["landline"], UK_LANDLINE),
        (["mobile"], "+447123123456"),
        (["voip"], UK_VOIP),
        (["VoIP", "Mobile"], UK_VOIP),
        (["mobile", "landline"], US_NUMBER),
        (["toll_free"], "+18005551234"),
    ],
)
def test_suppressed_when_the_line_type_is_excluded(
    vendor: IdResponse, types: list[str], to: str
) -> None:
    body = vendor.gateway(to, types=types)
    assert_envelope(body, *SUPPRESSED)
    assert body["meta"]["confirmation"] is None


def test_suppressed_when_the_app_itself_excludes_the_line_type(
    vendor_with: Callable[..., IdResponse],
) -> None:
    assert result_of(vendor_with(blocked_line_types=["voip"]).gateway(UK_VOIP)) == SUPPRESSED


@pytest.mark.parametrize(("types", "to"), [(["landline"], US_NUMBER), (["voip"], UK_LANDLINE)])
def test_a_line_type_not_excluded_is_sent(vendor: IdResponse, types: list[str], to: str) -> None:
    vendor.pending(to, types=types)


@pytest.mark.parametrize(
    ("to", "options"),
    [
        ("12", {}),
        ("call me", {}),
        (UK_UNASSIGNED, {}),
        (new_mobile(), {"blacklist": ["GB"]}),
        (new_mobile(), {"blacklist": ["gbr"]}),
        (new_mobile(), {"whitelist": ["US"]}),
        (US_NUMBER, {"blacklist": ["US"], "whitelist": ["US"]}),
        (US_NUMBER, {"blacklist": ["ISO2 Country Code"]}),
        (US_NUMBER, {"whitelist": ["XX"]}),
        (US_NUMBER, {"types": ["fax"]}),
        (US_NUMBER, {"message": "Hello {fn}"}),
        (US_NUMBER, {"message": "\x1b[31m{pin}"}),
        (US_NUMBER, {"reference": "r" * 129}),
        (US_NUMBER, {"message": "{pin}" + "x" * 500}),
        (US_NUMBER, {"message": "{pin} {fn}", "fn": "x" * 101}),
    ],
)
def test_data_check_failed_for_a_bad_number_an_excluded_country_or_bad_options(
    vendor: IdResponse, to: str, options: dict[str, Any]
) -> None:
    body = vendor.gateway(to, **options)
    assert_envelope(body, *DATA_CHECK_FAILED)
    assert len(body["result"]["issues"]) == 1


@pytest.mark.parametrize(
    ("app_settings", "options"),
    [
        ({"allowed_countries": ["GB"]}, {"whitelist": ["US"]}),
        ({"allowed_countries": ["GB"]}, {"whitelist": ["US", "GB"]}),
        ({"blocked_countries": ["US"]}, {"whitelist": ["US"]}),
        ({"blocked_countries": ["US"]}, {"blacklist": []}),
    ],
)
def test_request_countries_never_widen_the_apps(
    vendor_with: Callable[..., IdResponse],
    app_settings: dict[str, Any],
    options: dict[str, Any],
) -> None:
    body = vendor_with(**app_settings).gateway(US_NUMBER, **options)
    assert result_of(body) == DATA_CHECK_FAILED
    assert "does not send to US" in body["result"]["issues"][0]


def test_a_whitelist_inside_the_apps_list_narrows_it(
    vendor_with: Callable[..., IdResponse],
) -> None:
    vendor = vendor_with(allowed_countries=["GB", "US"])
    assert result_of(vendor.gateway(US_NUMBER, whitelist=["US"])) == PENDING
    assert result_of(vendor.gateway(new_mobile(), whitelist=["US"])) == DATA_CHECK_FAILED


def test_not_sent_when_a_code_was_sent_to_the_number_moments_ago(
    vendor: IdResponse, clock: Any
) -> None:
    vendor.pending(US_NUMBER)
    body = vendor.gateway(US_NUMBER)
    assert_envelope(body, *NOT_SENT)
    clock.advance(30)
    vendor.pending(US_NUMBER)


def test_not_sent_when_the_apps_sender_is_not_among_its_approved_senders(
    vendor_with: Callable[..., IdResponse],
) -> None:
    vendor = vendor_with(sender="Shop", approved_senders=["Other"])
    assert result_of(vendor.gateway(US_NUMBER)) == NOT_SENT


@pytest.mark.parametrize(
    ("user", "password"),
    [("KEY_ID", "wrong"), ("key_unknown", "wrong"), ("", ""), (None, None), (7, 7)],
)
def test_bad_credentials_are_401_with_one_answer_for_known_and_unknown_keys(
    vendor: IdResponse, user: Any, password: Any
) -> None:
    body = vendor.request(US_NUMBER)
    body["user"] = vendor.user if user == "KEY_ID" else user
    body["pass"] = password
    answer = vendor.gateway_raw(body, status=401)
    assert_envelope(answer, "FAIL", "AUTHENTICATION FAILED")
    assert answer["result"]["issues"] == ["missing or invalid API key"]
    assert answer["meta"]["company"] is None


def test_the_token_is_stored_only_as_a_hash(
    vendor: IdResponse, settings: Settings, client: TestClient, app: Any, runtime: Runtime
) -> None:
    token = vendor.pending(US_NUMBER)
    read_code(client, app.headers, US_E164)
    with runtime.database.read() as connection:
        rows = " ".join(
            str(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
        )
    assert VendorAlias("idresponse", token).hashed() in rows
    assert token not in rows
    if runtime.database.is_sqlite:  # freed pages and the WAL too
        files = b"".join(path.read_bytes() for path in Path(settings.data_dir).glob("otpgate.db*"))
        assert files and token.encode() not in files


def test_tokens_differ_for_each_request(vendor: IdResponse, clock: Any) -> None:
    tokens = set()
    for _ in range(3):
        tokens.add(vendor.pending(US_NUMBER))
        clock.advance(30)
    assert len(tokens) == 3


# --- /process/continue --------------------------------------------------------------------


def started(vendor: IdResponse, client: TestClient, app: Any) -> tuple[str, str]:
    token = vendor.pending(US_NUMBER)
    return token, read_code(client, app.headers, US_E164)


def test_pass_for_the_right_code_then_already_used(
    vendor: IdResponse, client: TestClient, app: Any
) -> None:
    token, code = started(vendor, client, app)
    body = vendor.continue_(token, code)
    assert_envelope(body, *PASSED)
    assert body["result"]["issues"] == []
    assert (body["meta"]["company"], body["meta"]["user"]) == (app.name, None)
    again = vendor.continue_(token, code)
    assert (result_of(again), again["result"]["issues"]) == (CHECK_FAILED, ["CODE ALREADY USED"])


def test_a_wrong_code_fails_and_the_right_one_still_passes(
    vendor: IdResponse, client: TestClient, app: Any
) -> None:
    token, code = started(vendor, client, app)
    wrong = vendor.continue_(token, wrong_code(code))
    assert_envelope(wrong, *CHECK_FAILED)
    assert wrong["result"]["issues"] == ["CODE DID NOT MATCH"]
    assert result_of(vendor.continue_(token, int(code) if code[0] != "0" else code)) == PASSED


def test_the_fifth_wrong_code_locks(vendor: IdResponse, client: TestClient, app: Any) -> None:
    token, code = started(vendor, client, app)
    issues = [vendor.continue_(token, wrong_code(code))["result"]["issues"] for _ in range(5)]
    assert issues == [["CODE DID NOT MATCH"]] * 4 + [["TOO MANY FAILED ATTEMPTS"]]
    assert vendor.continue_(token, code)["result"]["issues"] == ["TOO MANY FAILED ATTEMPTS"]


def test_an_expired_code_fails_from_the_first_check_after_expiry(
    vendor: IdResponse, client: TestClient, app: Any, clock: Any
) -> None:
    token, code = started(vendor, client, app)
    clock.advance(600)
    assert vendor.continue_(token, code)["result"]["issues"] == ["CODE EXPIRED"]
    assert vendor.continue_(token, code)["result"]["issues"] == ["CODE EXPIRED"]


def test_a_canceled_transaction_fails(vendor: IdResponse, client: TestClient, app: Any) -> None:
    token, code = started(vendor, client, app)
    [verification] = NativeApi(client, app.headers).list(to=US_E164).json()["verifications"]
    NativeApi(client, app.headers).cancel(verification["id"])
    assert vendor.continue_(token, code)["result"]["issues"] == ["TRANSACTION CANCELED"]


@pytest.mark.parametrize("token", ["o76m3nvz94jvaatfsmespzgx3qkzjjl1", "", "x" * 1000, 12, None])
def test_an_unknown_token_fails(vendor: IdResponse, token: Any) -> None:
    body = vendor.continue_(token, "123456")
    assert_envelope(body, *CHECK_FAILED)
    assert body["result"]["issues"] == ["UNKNOWN TOKEN"]
    assert body["meta"]["confirmation"] is None and body["meta"]["company"] is None


@pytest.mark.parametrize(
    ("key", "issue"),
    [
        ("", "NO CODE SUBMITTED"),
        (None, "NO CODE SUBMITTED"),
        ("1" * 65, "CODE DID NOT MATCH"),
        ("12\x0034", "CODE DID NOT MATCH"),
        ({"k": 1}, "CODE DID NOT MATCH"),
    ],
)
def test_a_missing_or_impossible_code_fails_without_counting_an_attempt(
    vendor: IdResponse, client: TestClient, app: Any, key: Any, issue: str
) -> None:
    token, code = started(vendor, client, app)
    body = vendor.continue_(token, key)
    assert_envelope(body, *CHECK_FAILED)
    assert body["result"]["issues"][0] == issue
    [verification] = NativeApi(client, app.headers).list(to=US_E164).json()["verifications"]
    assert verification["attempts"] == 0
    assert result_of(vendor.continue_(token, code)) == PASSED


def test_a_token_works_whichever_apps_key_is_around(
    vendor: IdResponse, vendor_with: Callable[..., IdResponse], client: TestClient, app: Any
) -> None:
    token, code = started(vendor, client, app)
    other = vendor_with()
    other.pending(US_NUMBER)  # the same number in another app is another transaction
    assert result_of(vendor.continue_(token, code)) == PASSED


def test_a_revoked_key_is_refused_but_its_tokens_still_continue(
    vendor: IdResponse, client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    token, code = started(vendor, client, app)
    revoked = client.delete(f"/v1/apps/{app.id}/keys/{app.key_id}", headers=admin_headers)
    assert revoked.status_code == 204
    refused = vendor.gateway_raw(vendor.request(new_mobile()), status=401)
    assert_envelope(refused, "FAIL", "AUTHENTICATION FAILED")
    # the token, not the key, is the continuation's credential
    assert result_of(vendor.continue_(token, code)) == PASSED
