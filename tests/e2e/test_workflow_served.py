"""A workflow in real time against `otpgate serve`: the WhatsApp step waits its 15 s, then
the SMS step goes out with the same code, and the code approves the verification."""

from __future__ import annotations

import time

import pytest
from support.outbox import code_in, wait_for_messages
from support.served import StartOtpgate

pytestmark = pytest.mark.e2e

TIMEOUT_SECONDS = 15


def test_a_whatsapp_step_unanswered_for_15_seconds_is_followed_by_an_sms(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate()
    api = served.new_app("flows", channels=["sms", "whatsapp"])
    body = api.started(
        workflow=[{"channel": "whatsapp", "timeout_seconds": TIMEOUT_SECONDS}, {"channel": "sms"}]
    )
    answered = time.monotonic()
    [whatsapp] = wait_for_messages(api.http, api.headers, body["to"])
    assert whatsapp["channel"] == "whatsapp"
    sms, _ = wait_for_messages(api.http, api.headers, body["to"], 2, timeout=TIMEOUT_SECONDS + 10)
    waited = time.monotonic() - answered
    assert sms["channel"] == "sms"
    # the step's due time is the start's own clock reading plus 15 s, taken before the answer
    assert TIMEOUT_SECONDS - 1 <= waited < TIMEOUT_SECONDS + 5, waited
    assert code_in(sms["body"]) == code_in(whatsapp["body"])
    shown = api.get(body["id"]).json()
    assert (shown["channel"], shown["sends"]) == ("sms", 2)
    assert [step["channel"] for step in shown["workflow"]] == ["whatsapp", "sms"]
    assert api.check(body["id"], code_in(sms["body"])).json()["status"] == "approved"
