"""The compatibility routes keep each vendor's own default text, and their messages are counted
in segments as the native API's are."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support.native import NativeApi
from support.ninety_nine import NinetyNine
from support.numbers import israeli_e164, new_israeli_mobile
from support.outbox import read_code
from support.vendor_apps import MakeVendorApp

from otpgate.compat.ninety_nine import SendReason

FRENCH = "+33612345678"


def message_of(api: NativeApi, to: str) -> dict[str, Any]:
    [verification] = api.list(to=to).json()["verifications"]
    [message] = api.http.get(
        f"/v1/verifications/{verification['id']}/messages", headers=api.headers
    ).json()["messages"]
    return message


def test_dotdigital_keeps_its_english_default_for_a_french_number(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app()
    answer = client.post("/webapi/verify", json={"from": "Test", "to": FRENCH[1:]}, auth=app.basic)
    assert answer.status_code == 202, answer.text
    code = read_code(client, app.native.headers, FRENCH)
    body = app.native.outbox(to=FRENCH).json()["messages"][0]["body"]
    assert body == f"Your verification code is {code}"
    message = message_of(app.native, FRENCH)
    assert (message["encoding"], message["segments"]) == ("gsm7", 1)


def test_dotdigital_uses_the_apps_text_for_the_locale_before_its_own_default(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app(templates={"fr": "Code {app} : {code}"}, brand="Mayflower")
    client.post("/webapi/verify", json={"from": "Test", "to": FRENCH[1:]}, auth=app.basic)
    code = read_code(client, app.native.headers, FRENCH)
    assert app.native.outbox(to=FRENCH).json()["messages"][0]["body"] == f"Code Mayflower : {code}"


def test_a_vendor_text_in_hebrew_is_ucs2_and_counted_in_its_segments(
    client: TestClient, make_app: Any
) -> None:
    handle = make_app()
    vendor, native = NinetyNine(client, handle.api_key), NativeApi(client, handle.headers)
    to = new_israeli_mobile()
    vendor.send(to, message="קוד האימות שלך הוא ##code## " + "ש" * 60)  # 88 UTF-16 units
    message = message_of(native, israeli_e164(to))
    assert (message["encoding"], message["segments"]) == ("ucs2", 2)
    plain = new_israeli_mobile()
    vendor.send(plain)  # the vendor's own default text, in GSM-7
    message = message_of(native, israeli_e164(plain))
    assert (message["encoding"], message["segments"]) == ("gsm7", 1)


def test_a_vendor_text_longer_than_max_segments_is_refused_in_the_vendors_shape(
    client: TestClient, make_app: Any
) -> None:
    handle = make_app({"max_segments": 1})
    to = new_israeli_mobile()
    answer = NinetyNine(client, handle.api_key).send(to, message="##code## " + "x" * 160)
    assert (answer["status"], answer["reason"]) == ("FAIL", SendReason.OTHER_FAILURE)
    assert NativeApi(client, handle.headers).list(to=israeli_e164(to)).json()["verifications"] == []
