"""The compatibility routes stay SMS: an app whose default workflow starts by WhatsApp still
sends a vendor's request as one SMS."""

from __future__ import annotations

from fastapi.testclient import TestClient
from support.ninety_nine import NinetyNine
from support.numbers import israeli_e164, new_israeli_mobile
from support.outbox import wait_for_messages
from support.vendor_apps import MakeVendorApp


def test_a_vendor_start_is_one_sms_whatever_the_apps_workflow(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app(
        channels=["sms", "whatsapp", "call"],
        workflow=[{"channel": "whatsapp"}, {"channel": "call"}],
    )
    national = new_israeli_mobile()
    sent = NinetyNine(client, f"{app.key_id}.{app.secret}").send(national)
    assert sent["status"] == "OK", sent
    native = app.native
    [message] = wait_for_messages(native.http, native.headers, israeli_e164(national))
    assert message["channel"] == "sms"
    shown = native.get(message["verification_id"]).json()
    assert (shown["channel"], [step["channel"] for step in shown["workflow"]]) == ("sms", ["sms"])
