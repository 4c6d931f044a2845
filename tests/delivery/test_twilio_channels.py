"""Twilio calls and WhatsApp: the requests against Twilio's own OpenAPI description (Prism),
and the signed status callbacks of a local Twilio read by a running otpgate."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from peers.otpgate import LiveOtpgate, StartOtpgate, wait_until
from peers.prism import Prism, installed
from peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, sign

from otpgate import runtime as composition
from otpgate.config import ConfigError, Settings, load_settings
from otpgate.delivery.protocol import (
    OutgoingCall,
    OutgoingWhatsApp,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)
from otpgate.delivery.senders.twilio_voice import TwilioCallConfig, TwilioCallSender, twiml
from otpgate.delivery.senders.twilio_whatsapp import TwilioWhatsAppConfig, TwilioWhatsAppSender

CONTENT_SID = "HX" + "0123456789abcdef" * 2
SPEECH = "Your Acme code is 1, 2, 3, 4, 5, 6. Again: 1, 2, 3, 4, 5, 6."


def a_call(to: str = "+447123120123") -> OutgoingCall:
    return OutgoingCall("msg_1", "app_1", "ver_1", to, None, SPEECH, "en-GB")


def a_whatsapp(to: str = "+447123120123") -> OutgoingWhatsApp:
    return OutgoingWhatsApp(
        "msg_2", "app_1", "ver_1", to, None, "123456", "en", "Your code is 123456"
    )


def call_sender(base_url: str, callback: str | None) -> TwilioCallSender:
    return TwilioCallSender(
        TwilioCallConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            caller_id="+15005550006",
            base_url=base_url,
            status_callback=callback,
        )
    )


def whatsapp_sender(base_url: str, callback: str | None) -> TwilioWhatsAppSender:
    return TwilioWhatsAppSender(
        TwilioWhatsAppConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            sender="+15005550006",
            content_sid=CONTENT_SID,
            base_url=base_url,
            status_callback=callback,
        )
    )


async def place(sender: TwilioCallSender, call: OutgoingCall) -> SendReceipt:
    try:
        return await sender.call(call)
    finally:
        await sender.close()


async def send(sender: TwilioWhatsAppSender, message: OutgoingWhatsApp) -> SendReceipt:
    try:
        return await sender.send_whatsapp(message)
    finally:
        await sender.close()


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    if not installed():
        if os.environ.get("CI"):
            raise RuntimeError("CI must have Prism and Twilio's spec: run `make peers`")
        pytest.skip("Prism is not installed (make peers)")
    server = Prism(Path(tmp_path_factory.mktemp("prism")) / "prism.log").start()
    yield server
    server.stop()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    peer = FakeTwilio().start()
    yield peer
    peer.stop()


def twilio_settings(base_url: str) -> dict[str, str]:
    """Calls and WhatsApp messages through Twilio (SMS stays with the outbox)."""
    return {
        "voice_provider": "twilio",
        "whatsapp_provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_voice_from": "+15005550006",
        "twilio_whatsapp_from": "+15005550006",
        "twilio_content_sid": CONTENT_SID,
        "twilio_base_url": base_url,
    }


@pytest.fixture
def otpgate(start_otpgate: StartOtpgate, twilio: FakeTwilio) -> LiveOtpgate:
    return start_otpgate(**twilio_settings(twilio.url))


ALL_CHANNELS = {"channels": ["sms", "call", "whatsapp"]}


def test_twiml_says_the_speech_in_the_language_and_escapes_it() -> None:
    document = ElementTree.fromstring(twiml("1 < 2 & <Hangup/>", "fr-FR"))

    [say] = list(document)
    assert (document.tag, say.tag, say.get("language")) == ("Response", "Say", "fr-FR")
    assert say.text == "1 < 2 & <Hangup/>"  # text, never markup


@pytest.mark.parametrize(("channel", "sid"), [("call", "CA"), ("whatsapp", "SM")])
def test_a_start_by_call_or_whatsapp_goes_to_twilio_as_its_openapi_describes(
    start_otpgate: StartOtpgate, prism: Prism, channel: str, sid: str
) -> None:
    otpgate = start_otpgate(**twilio_settings(prism.url))
    app = otpgate.create_app(ALL_CHANNELS)

    started = otpgate.start_verification(app, "+447123120123", channel=channel)
    otpgate.wait_for_delivery(app, started["id"], "sent")

    [message] = otpgate.messages(app, started["id"])
    assert (message["channel"], message["provider"]) == (channel, "twilio")
    assert message["provider_message_id"].startswith(sid) and message["last_error"] is None


def test_prism_refuses_a_call_without_a_caller(prism: Prism) -> None:
    import httpx

    answer = httpx.post(
        f"{prism.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        data={"To": "+447123120123", "Twiml": "<Response/>"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert answer.status_code == 422  # so the passing tests above were validated


@pytest.mark.parametrize("to", ["+447123120123", "+447123120000"], ids=["completed", "busy"])
def test_a_calls_signed_status_callback_is_taken(
    otpgate: LiveOtpgate, twilio: FakeTwilio, to: str
) -> None:
    sender = call_sender(twilio.url, otpgate.url + "/v1/receipts/twilio")

    receipt = asyncio.run(place(sender, a_call(to)))

    [made] = twilio.calls
    assert receipt.provider_message_id == made["sid"]
    assert made["From"] == "+15005550006" and 'language="en-GB"' in made["Twiml"]
    wait_until(lambda: twilio.callbacks, bool, 10, what="the call's status callback")
    assert twilio.callbacks == [(otpgate.url + "/v1/receipts/twilio", 204)]


@pytest.mark.parametrize(
    ("to", "status", "error"),
    [("+447123120123", "delivered", None), ("+447123120000", "undelivered", "twilio call busy")],
)
def test_a_call_ends_delivered_or_undelivered_as_its_status_callback_says(
    otpgate: LiveOtpgate, twilio: FakeTwilio, to: str, status: str, error: str | None
) -> None:
    app = otpgate.create_app(ALL_CHANNELS)

    started = otpgate.start_verification(app, to, channel="call")
    otpgate.wait_for_delivery(app, started["id"], status)

    [made] = twilio.calls
    assert made["StatusCallback"] == otpgate.url + "/v1/receipts/twilio"
    [message] = otpgate.messages(app, started["id"])
    assert message["provider_message_id"] == made["sid"] and message["last_error"] == error


def test_a_start_by_whatsapp_is_delivered_through_twilio(
    otpgate: LiveOtpgate, twilio: FakeTwilio
) -> None:
    app = otpgate.create_app(ALL_CHANNELS)

    started = otpgate.start_verification(app, "+447123120123", channel="whatsapp")
    otpgate.wait_for_delivery(app, started["id"], "delivered")

    [created] = twilio.created
    assert created["To"] == "whatsapp:+447123120123" and created["ContentSid"] == CONTENT_SID
    [message] = otpgate.messages(app, started["id"])
    assert (message["channel"], message["provider"]) == ("whatsapp", "twilio")


def test_a_call_status_callback_with_a_bad_signature_is_refused(otpgate: LiveOtpgate) -> None:
    url = otpgate.url + "/v1/receipts/twilio"
    params = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed"}

    right = otpgate.http.post(
        "/v1/receipts/twilio",
        data=params,
        headers={"X-Twilio-Signature": sign(AUTH_TOKEN, url, params)},
    )
    wrong_key = otpgate.http.post(
        "/v1/receipts/twilio",
        data=params,
        headers={"X-Twilio-Signature": sign("not-the-token", url, params)},
    )
    tampered = otpgate.http.post(
        "/v1/receipts/twilio",
        data={**params, "CallStatus": "busy"},
        headers={"X-Twilio-Signature": sign(AUTH_TOKEN, url, params)},
    )

    assert [right.status_code, wrong_key.status_code, tampered.status_code] == [204, 403, 403]


def test_a_whatsapp_message_uses_the_content_template_and_its_callbacks_are_taken(
    otpgate: LiveOtpgate, twilio: FakeTwilio
) -> None:
    sender = whatsapp_sender(twilio.url, otpgate.url + "/v1/receipts/twilio")

    asyncio.run(send(sender, a_whatsapp()))

    [created] = twilio.created
    assert created["To"] == "whatsapp:+447123120123"
    assert created["From"] == "whatsapp:+15005550006"
    assert created["ContentSid"] == CONTENT_SID and created["ContentVariables"] == '{"1": "123456"}'
    assert "Body" not in created
    wait_until(lambda: len(twilio.callbacks), lambda n: n == 2, 10, what="both callbacks")
    assert [status for _, status in twilio.callbacks] == [204, 204]


@pytest.mark.parametrize(
    ("to", "error"),
    [("+447123120400", PermanentSendError), ("+447123120503", TransientSendError)],
)
def test_twilios_refusals_of_a_call_are_permanent_or_transient(
    twilio: FakeTwilio, to: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"twilio error \d+ \(HTTP \d+\)"):
        asyncio.run(place(call_sender(twilio.url, None), a_call(to)))


def test_wrong_credentials_are_transient_for_whatsapp_too(twilio: FakeTwilio) -> None:
    sender = TwilioWhatsAppSender(
        TwilioWhatsAppConfig(
            ACCOUNT_SID, "wrong-token", "+15005550006", CONTENT_SID, twilio.url, None
        )
    )

    with pytest.raises(TransientSendError, match="20003"):
        asyncio.run(send(sender, a_whatsapp()))


def test_the_start_names_a_missing_twilio_channel_setting(tmp_path: Path) -> None:
    account = {"twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN}

    def settings(**values: Any) -> Settings:
        return Settings(_env_file=None, data_dir=tmp_path, **{**account, **values})  # type: ignore[call-arg]

    with pytest.raises(ConfigError, match=r"^OTPGATE_TWILIO_VOICE_FROM: a Twilio number"):
        composition._twilio_call_sender(settings(twilio_from="Acme"))  # an SMS sender id
    assert isinstance(
        composition._twilio_call_sender(settings(twilio_from="+15005550006")), TwilioCallSender
    )
    with pytest.raises(ConfigError, match=r"^OTPGATE_TWILIO_WHATSAPP_FROM: required by"):
        composition._twilio_whatsapp_sender(settings(twilio_content_sid=CONTENT_SID))
    with pytest.raises(ConfigError, match=r"^OTPGATE_TWILIO_CONTENT_SID: required by"):
        composition._twilio_whatsapp_sender(settings(twilio_whatsapp_from="+15005550006"))
    with pytest.raises(ConfigError, match=r"^OTPGATE_TWILIO_CONTENT_SID: String should match"):
        load_settings(None, twilio_content_sid="not-a-content-sid")
