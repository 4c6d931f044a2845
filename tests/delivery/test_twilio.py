"""The Twilio provider against a local Twilio Messages API that sends signed StatusCallbacks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers.otpgate import StartOtpgate, closed_port_url
from peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, sign

from otpgate.delivery.senders.twilio import twilio_signature


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    peer = FakeTwilio().start()
    yield peer
    peer.stop()


def twilio_settings(twilio: FakeTwilio, **more: object) -> dict[str, object]:
    return {
        "sms_provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from": "+15005550006",
        "twilio_base_url": twilio.url,
        **more,
    }


def test_signature_matches_twilios_documented_example() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_message_is_created_and_the_status_callback_marks_it_delivered(
    start_otpgate: StartOtpgate, twilio: FakeTwilio
) -> None:
    otpgate = start_otpgate(**twilio_settings(twilio))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120123")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [created] = twilio.created
    assert created["To"] == "+447123120123" and created["From"] == "+15005550006"
    assert created["StatusCallback"] == otpgate.url + "/v1/receipts/twilio"
    [message] = otpgate.messages(app, started["id"])
    assert message["provider"] == "twilio" and message["provider_message_id"] == created["sid"]
    assert all(status == 204 for _, status in twilio.callbacks)


def test_messaging_service_and_an_undelivered_callback(
    start_otpgate: StartOtpgate, twilio: FakeTwilio
) -> None:
    otpgate = start_otpgate(
        **twilio_settings(twilio, twilio_from=None, twilio_messaging_service_sid="MG" + "1" * 32)
    )
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120000")

    otpgate.wait_for_delivery(app, started["id"], "undelivered")

    assert twilio.created[0]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in twilio.created[0]
    [message] = otpgate.messages(app, started["id"])
    assert message["last_error"] == "twilio undelivered 30003"


def test_an_invalid_number_error_makes_the_verification_undeliverable(
    start_otpgate: StartOtpgate, twilio: FakeTwilio
) -> None:
    otpgate = start_otpgate(**twilio_settings(twilio))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120400")

    found = otpgate.wait_for_delivery(app, started["id"], "failed")

    assert found["status"] == "undeliverable"
    [message] = otpgate.messages(app, started["id"])
    assert message["last_error"] == "twilio error 21211 (HTTP 400)"  # not Twilio's text


@pytest.mark.parametrize("to", ["+447123120429", "+447123120503"])
def test_rate_limits_and_outages_are_retried_then_delivered(
    start_otpgate: StartOtpgate, twilio: FakeTwilio, to: str
) -> None:
    otpgate = start_otpgate(**twilio_settings(twilio))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, to)

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [message] = otpgate.messages(app, started["id"])
    assert message["attempts"] == twilio.fail_times + 1 and len(twilio.created) == 1


def test_wrong_credentials_move_the_message_to_the_next_provider(
    start_otpgate: StartOtpgate, twilio: FakeTwilio
) -> None:
    otpgate = start_otpgate(
        **twilio_settings(twilio, sms_provider="twilio,outbox", twilio_auth_token="wrong-token")
    )
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120123")

    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [message] = otpgate.messages(app, started["id"])
    assert message["provider"] == "outbox"


def test_twilio_down_fails_over_to_the_next_provider(
    start_otpgate: StartOtpgate, twilio: FakeTwilio
) -> None:
    down = start_otpgate(
        **twilio_settings(twilio, sms_provider="http,twilio", http_url=closed_port_url())
    )
    app = down.create_app()
    started = down.start_verification(app, "+447123120123")

    down.wait_for_delivery(app, started["id"], "delivered")

    [message] = down.messages(app, started["id"])
    assert message["provider"] == "twilio" and message["attempts"] == 1


def test_a_callback_with_a_bad_signature_is_refused(
    start_otpgate: StartOtpgate, twilio: FakeTwilio
) -> None:
    otpgate = start_otpgate(**twilio_settings(twilio))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120123")
    otpgate.wait_for_delivery(app, started["id"], "delivered")
    sid = twilio.created[0]["sid"]
    url = otpgate.url + "/v1/receipts/twilio"
    params = {"MessageSid": sid, "MessageStatus": "undelivered"}

    unsigned = otpgate.http.post("/v1/receipts/twilio", data=params)
    wrong_key = otpgate.http.post(
        "/v1/receipts/twilio",
        data=params,
        headers={"X-Twilio-Signature": sign("not-the-token", url, params)},
    )
    tampered = otpgate.http.post(
        "/v1/receipts/twilio",
        data={**params, "MessageStatus": "failed"},
        headers={"X-Twilio-Signature": sign(AUTH_TOKEN, url, params)},
    )

    assert [unsigned.status_code, wrong_key.status_code, tampered.status_code] == [403] * 3
    assert otpgate.verification(app, started["id"])["delivery_status"] == "delivered"
