"""99 digital Verify SMS: every reason and status number of the contract, over the in-process
app with a fake clock (expiry without sleeping)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.native import NativeApi
from support.ninety_nine import NinetyNine
from support.numbers import israeli_e164, new_israeli_mobile
from support.outbox import read_code, wait_for_messages, wrong_code

ISRAELI_LANDLINE = "031234567"
UNASSIGNED = "0501234567"  # the vendor page's example: 050-1 is not an assigned range


@pytest.fixture
def vendor(client: TestClient, app: Any) -> NinetyNine:
    return NinetyNine(client, app.api_key)


@pytest.fixture
def vendor_with(client: TestClient, make_app: Any) -> Callable[..., NinetyNine]:
    return lambda **settings: NinetyNine(client, make_app(settings).api_key)


def code_for(client: TestClient, app: Any, national: str) -> str:
    return read_code(client, app.headers, israeli_e164(national))


# --- Send: reason numbers ---------------------------------------------------------------


def test_reason_1_a_sent_code_answers_ok_with_the_message_id(
    vendor: NinetyNine, client: TestClient, app: Any, clock: Any
) -> None:
    to = new_israeli_mobile()
    answer = vendor.send(to, **{"from": "0501234567"})
    assert answer["status"] == "OK" and answer["reason"] == 1
    assert answer["from"] == "0501234567"
    assert answer["timestamp"] == int(clock.now().timestamp())
    verification = NativeApi(client, app.headers).list(to=israeli_e164(to)).json()
    [found] = verification["verifications"]
    messages = client.get(f"/v1/verifications/{found['id']}/messages", headers=app.headers)
    assert [m["id"] for m in messages.json()["messages"]] == [answer["unique"]]


@pytest.mark.parametrize("sender", ["ABCDEFGHIJKL", "A", "1234567890123456", "7"])
def test_reason_2_a_sender_too_long_or_too_short(vendor: NinetyNine, sender: str) -> None:
    answer = vendor.send(new_israeli_mobile(), **{"from": sender})
    assert (answer["status"], answer["reason"], answer["from"]) == ("FAIL", 2, sender)


def test_reason_3_a_numeric_sender_the_app_has_not_approved(
    vendor_with: Callable[..., NinetyNine],
) -> None:
    vendor = vendor_with(approved_senders=["0501234567"])
    refused = vendor.send(new_israeli_mobile(), **{"from": "0509999999"})
    assert (refused["status"], refused["reason"]) == ("FAIL", 3)
    approved = vendor.send(new_israeli_mobile(), **{"from": "0501234567"})
    assert (approved["status"], approved["reason"]) == ("OK", 1)


def test_any_numeric_sender_is_accepted_when_the_app_lists_no_senders(vendor: NinetyNine) -> None:
    answer = vendor.send(new_israeli_mobile(), **{"from": "0509999999"})
    assert (answer["status"], answer["reason"]) == ("OK", 1)


@pytest.mark.parametrize(
    ("app_settings", "to"),
    [
        ({}, "12"),  # not a number
        ({}, UNASSIGNED),  # possible length, unassigned range
        ({}, "050-abc"),
        ({"blocked_countries": ["IL"]}, None),
        ({"allowed_countries": ["GB"]}, None),
        ({"blocked_line_types": ["landline"]}, ISRAELI_LANDLINE),
    ],
)
def test_reason_5_an_invalid_or_blocked_number(
    vendor_with: Callable[..., NinetyNine], app_settings: dict[str, Any], to: str | None
) -> None:
    answer = vendor_with(**app_settings).send(to or new_israeli_mobile())
    assert (answer["status"], answer["reason"], answer["unique"]) == ("FAIL", 5, "")


def test_reason_5_a_resend_within_the_cooldown(vendor: NinetyNine, clock: Any) -> None:
    to = new_israeli_mobile()
    assert vendor.send(to)["reason"] == 1
    assert vendor.send(to)["reason"] == 5
    clock.advance(30)
    assert vendor.send(to)["reason"] == 1


def test_reason_5_a_sender_with_characters_no_sender_may_hold(vendor: NinetyNine) -> None:
    assert vendor.send(new_israeli_mobile(), **{"from": "Shop!"})["reason"] == 5


@pytest.mark.parametrize(
    "api_key",
    ["", "nonsense", "key_unknown.secret", None],
)
def test_reason_6_a_wrong_api_key(vendor: NinetyNine, app: Any, api_key: str | None) -> None:
    fields = {"from": "Shop", "to": new_israeli_mobile()}
    if api_key is not None:
        fields["apiKey"] = api_key
    answer = vendor.post(fields)
    assert (answer["status"], answer["reason"]) == ("FAIL", 6)


def test_reason_6_is_the_same_for_a_known_key_id_with_a_wrong_secret(
    vendor: NinetyNine, app: Any
) -> None:
    known = vendor.post({"apiKey": f"{app.key_id}.wrong", "from": "Shop", "to": "0502345678"})
    unknown = vendor.post({"apiKey": "key_nobody.wrong", "from": "Shop", "to": "0502345678"})
    assert {**known, "timestamp": 0} == {**unknown, "timestamp": 0}
    assert known["reason"] == 6


@pytest.mark.parametrize("to", [None, "", "   "])
def test_reason_7_to_empty(vendor: NinetyNine, to: str | None) -> None:
    fields = {"apiKey": vendor.api_key, "from": "Shop"}
    if to is not None:
        fields["to"] = to
    assert vendor.post(fields)["reason"] == 7


@pytest.mark.parametrize("sender", [None, "", " "])
def test_reason_9_from_empty(vendor: NinetyNine, sender: str | None) -> None:
    fields = {"apiKey": vendor.api_key, "to": new_israeli_mobile()}
    if sender is not None:
        fields["from"] = sender
    answer = vendor.post(fields)
    assert (answer["status"], answer["reason"]) == ("FAIL", 9)


@pytest.mark.parametrize("message", ["Your code", "Your code is #code#", "Your code is {pin}"])
def test_reason_10_a_message_without_the_code_placeholder(vendor: NinetyNine, message: str) -> None:
    answer = vendor.send(new_israeli_mobile(), message=message)
    assert (answer["status"], answer["reason"]) == ("FAIL", 10)


def test_the_message_carries_the_code_where_the_placeholder_is(
    vendor: NinetyNine, client: TestClient, app: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to, message="Shop: ##code## is your code")
    [message] = wait_for_messages(client, app.headers, israeli_e164(to))
    code = message["body"].split()[1]
    assert message["body"] == f"Shop: {code} is your code" and code.isdigit()
    assert message["sender"] == "Shop"


def test_the_default_message_is_the_vendors(
    vendor: NinetyNine, client: TestClient, app: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    [message] = wait_for_messages(client, app.headers, israeli_e164(to))
    code = code_for(client, app, to)
    assert message["body"] == f" Your verification code is: {code} "


@pytest.mark.parametrize("to", ["+972502345678", "972502345678", "00972502345678"])
def test_international_formats_reach_the_same_number(vendor: NinetyNine, to: str) -> None:
    answer = vendor.send(to)
    assert answer["reason"] == 1
    assert vendor.check("0502345678", "000000")["status"] == 2


# --- Check: status numbers --------------------------------------------------------------


def test_status_1_the_right_code_verifies_once_then_4(
    vendor: NinetyNine, client: TestClient, app: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    code = code_for(client, app, to)
    assert vendor.check(to, code) == {"status": 1, "phone": to}
    assert vendor.check(to, code) == {"status": 4, "phone": to}


def test_status_2_a_wrong_code(vendor: NinetyNine, client: TestClient, app: Any) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    code = code_for(client, app, to)
    assert vendor.check(to, wrong_code(code)) == {"status": 2, "phone": to}
    assert vendor.check(to, "x" * 65)["status"] == 2
    assert vendor.check(to, code)["status"] == 1


def test_status_3_the_first_check_after_expiry_then_4(
    vendor: NinetyNine, client: TestClient, app: Any, clock: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    code = code_for(client, app, to)
    clock.advance(600)
    assert vendor.check(to, code)["status"] == 3
    assert vendor.check(to, code)["status"] == 4


@pytest.mark.parametrize("to", ["0502345678", "12", "+447123123456"])
def test_status_4_no_verification_was_sent(vendor: NinetyNine, to: str) -> None:
    assert vendor.check(to, "123456") == {"status": 4, "phone": to}


def test_status_4_for_a_number_another_app_sent_to(
    vendor: NinetyNine, vendor_with: Callable[..., NinetyNine], client: TestClient, app: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    code = code_for(client, app, to)
    assert vendor_with().check(to, code)["status"] == 4
    assert vendor.check(to, code)["status"] == 1


def test_status_5_on_the_fifth_wrong_code_then_4(
    vendor: NinetyNine, client: TestClient, app: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    code = code_for(client, app, to)
    answers = [vendor.check(to, wrong_code(code))["status"] for _ in range(5)]
    assert answers == [2, 2, 2, 2, 5]
    assert vendor.check(to, code)["status"] == 4


@pytest.mark.parametrize("api_key", ["", "key_unknown.secret", None])
def test_status_6_a_wrong_api_key(vendor: NinetyNine, api_key: str | None) -> None:
    fields = {"to": "0502345678", "code": "123456"}
    if api_key is not None:
        fields["apiKey"] = api_key
    assert vendor.post(fields) == {"status": 6, "phone": "0502345678"}


@pytest.mark.parametrize("to", [None, "", "  "])
def test_status_7_to_empty(vendor: NinetyNine, to: str | None) -> None:
    fields = {"apiKey": vendor.api_key, "code": "123456"}
    if to is not None:
        fields["to"] = to
    assert vendor.post(fields)["status"] == 7


@pytest.mark.parametrize("code", ["", "  "])
def test_status_8_code_empty_counts_no_attempt(
    vendor: NinetyNine, client: TestClient, app: Any, code: str
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    assert vendor.check(to, code) == {"status": 8, "phone": to}
    [verification] = (
        NativeApi(client, app.headers).list(to=israeli_e164(to)).json()["verifications"]
    )
    assert verification["attempts"] == 0


def test_a_verification_is_visible_in_the_native_api_with_the_same_status(
    vendor: NinetyNine, client: TestClient, app: Any
) -> None:
    to = new_israeli_mobile()
    vendor.send(to)
    native = NativeApi(client, app.headers)
    [pending] = native.list(to=israeli_e164(to)).json()["verifications"]
    assert pending["status"] == "pending"
    vendor.check(to, code_for(client, app, to))
    assert native.get(pending["id"]).json()["status"] == "approved"


def test_a_revoked_key_is_a_wrong_api_key_at_once(
    vendor: NinetyNine, client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    to = new_israeli_mobile()
    assert vendor.send(to)["reason"] == 1
    revoked = client.delete(f"/v1/apps/{app.id}/keys/{app.key_id}", headers=admin_headers)
    assert revoked.status_code == 204
    assert vendor.send(new_israeli_mobile())["reason"] == 6
    assert vendor.check(to, "123456")["status"] == 6
