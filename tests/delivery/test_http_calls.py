"""Calls through the generic HTTP provider, against a local gateway that calls receipts back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers.gateway import FakeGateway
from peers.otpgate import LiveOtpgate, StartOtpgate, wait_until

from otpgate import runtime as composition
from otpgate.config import ConfigError, Settings
from otpgate.delivery.protocol import (
    CallSender,
    OutgoingCall,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)

SPEECH = 'Your "Acme" code is 1, 2, 3, 4, 5, 6.'
TOKEN = "http-receipt-token-0123456789"
CALL_BODY = (
    '{"to": "{to}", "say": "{speech}", "voice": "{language}", "from": "{sender}", '
    '"callback": "{receipt_url}"}'
)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    peer = FakeGateway().start()
    yield peer
    peer.stop()


def call_settings(tmp_path: Path, gateway: FakeGateway, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "public_url": "http://127.0.0.1:1",
        "voice_provider": "http",
        "http_voice_url": gateway.url + "/calls",
        "http_voice_body": CALL_BODY,
        "http_voice_message_id_path": "messages.0.id",
        "http_voice_from": "+447700900001",
        "http_receipt_token": TOKEN,
        **more,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def a_call(to: str = "+447123120123") -> OutgoingCall:
    return OutgoingCall("msg_1", "app_1", "ver_1", to, None, SPEECH, "en-GB")


async def place(sender: CallSender, call: OutgoingCall) -> SendReceipt:
    try:
        return await sender.call(call)
    finally:
        await sender.close()


def test_the_call_request_carries_speech_language_and_receipt_url_and_the_receipt_is_taken(
    start_otpgate: StartOtpgate, gateway: FakeGateway, tmp_path: Path
) -> None:
    otpgate: LiveOtpgate = start_otpgate(
        voice_provider="http",
        http_voice_url=gateway.url + "/calls",
        http_receipt_token=TOKEN,
        http_status_map={"DELIVRD": "delivered", "UNDELIV": "undelivered"},
    )
    settings = call_settings(tmp_path, gateway, public_url=otpgate.url)

    receipt = asyncio.run(place(composition._http_call_sender(settings), a_call()))

    [sent] = gateway.accepted
    assert receipt.provider_message_id == sent["gateway_id"]
    assert (sent["to"], sent["say"], sent["voice"]) == ("+447123120123", SPEECH, "en-GB")
    assert sent["from"] == "+447700900001"
    assert sent["callback"] == f"{otpgate.url}/v1/receipts/http?token={TOKEN}"
    wait_until(lambda: gateway.callbacks, bool, 10, what="the call's receipt")
    assert [status for _, status in gateway.callbacks] == [204]


def test_a_start_by_call_goes_to_the_gateway_and_its_receipt_ends_it_undelivered(
    start_otpgate: StartOtpgate, gateway: FakeGateway
) -> None:
    otpgate = start_otpgate(
        voice_provider="http",
        http_voice_url=gateway.url + "/calls",
        http_voice_body=CALL_BODY,
        http_voice_message_id_path="messages.0.id",
        http_receipt_token=TOKEN,
        http_status_map={"DELIVRD": "delivered", "UNDELIV": "undelivered"},
    )
    app = otpgate.create_app({"channels": ["sms", "call"]})

    started = otpgate.start_verification(app, "+447123120000", channel="call")
    otpgate.wait_for_delivery(app, started["id"], "undelivered")

    [sent] = gateway.accepted
    assert sent["say"] and sent["voice"]  # the speech and its language, as the core gave them
    [message] = otpgate.messages(app, started["id"])
    assert (message["channel"], message["provider"]) == ("call", "http")
    assert message["provider_message_id"] == sent["gateway_id"]


def test_the_default_body_names_speech_and_language(gateway: FakeGateway, tmp_path: Path) -> None:
    settings = call_settings(
        tmp_path, gateway, http_voice_body=None, http_voice_message_id_path=None
    )

    receipt = asyncio.run(place(composition._http_call_sender(settings), a_call()))

    [sent] = gateway.accepted
    assert (sent["speech"], sent["language"], sent["reference"]) == (SPEECH, "en-GB", "msg_1")
    assert receipt.provider_message_id == "msg_1"  # ours: the gateway's receipts name it


@pytest.mark.parametrize(
    ("to", "error"),
    [("+447123120400", PermanentSendError), ("+447123120503", TransientSendError)],
)
def test_the_gateways_refusals_are_permanent_or_transient(
    gateway: FakeGateway, tmp_path: Path, to: str, error: type[Exception]
) -> None:
    sender = composition._http_call_sender(call_settings(tmp_path, gateway))

    with pytest.raises(error, match=r"^HTTP \d{3}$"):
        asyncio.run(place(sender, a_call(to)))


def test_the_start_names_the_missing_url_and_a_bad_status_list(
    gateway: FakeGateway, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"^OTPGATE_HTTP_VOICE_URL: required by"):
        composition._http_call_sender(call_settings(tmp_path, gateway, http_voice_url=None))
    with pytest.raises(ConfigError, match=r"^OTPGATE_HTTP_VOICE_ACCEPTED_STATUSES:"):
        composition._http_call_sender(
            call_settings(tmp_path, gateway, http_voice_accepted_statuses="ok")
        )
