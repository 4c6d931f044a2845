"""Vonage calls (Voice API) and WhatsApp (Messages API) against a local Vonage that checks the
application's RS256 JWT and sends JWT-signed events back to a running otpgate."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from peers.otpgate import LiveOtpgate, StartOtpgate, wait_until
from peers.vonage_api import (
    APPLICATION_ID,
    SIGNATURE_SECRET,
    FakeVonageApi,
    signed_callback_headers,
)

from otpgate import runtime as composition
from otpgate.config import ConfigError, Settings
from otpgate.delivery.protocol import (
    InboundReceipt,
    OutgoingCall,
    OutgoingWhatsApp,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)
from otpgate.delivery.senders.vonage import VonageReceiptReader
from otpgate.delivery.senders.vonage_application import VonageApplicationConfig
from otpgate.delivery.senders.vonage_voice import VonageCallConfig, VonageCallSender
from otpgate.delivery.senders.vonage_whatsapp import VonageWhatsAppConfig, VonageWhatsAppSender
from otpgate.domain.errors import Forbidden
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import ReceiptRequest

SPEECH = "Your Acme code is 1, 2, 3, 4, 5, 6. Again: 1, 2, 3, 4, 5, 6."
ROUTE = "/v1/receipts/vonage"


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def vonage(private_key: rsa.RSAPrivateKey) -> Iterator[FakeVonageApi]:
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    peer = FakeVonageApi(public).start()
    yield peer
    peer.stop()


@pytest.fixture
def key_file(tmp_path: Path, private_key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "vonage-private.key"
    path.write_bytes(pem(private_key))
    return path


@pytest.fixture
def otpgate(start_otpgate: StartOtpgate, vonage: FakeVonageApi, key_file: Path) -> LiveOtpgate:
    """An otpgate whose calls and WhatsApp messages go through Vonage: it takes their events."""
    return start_otpgate(
        voice_provider="vonage",
        whatsapp_provider="vonage",
        vonage_application_id=APPLICATION_ID,
        vonage_private_key_file=key_file,
        vonage_voice_from="+447700900001",
        vonage_whatsapp_from="+447700900002",
        vonage_whatsapp_template="otp_code",
        vonage_signature_secret=SIGNATURE_SECRET,
        vonage_api_base_url=vonage.url,
    )


ALL_CHANNELS = {"channels": ["sms", "call", "whatsapp"]}


def application(url: str, private_key: rsa.RSAPrivateKey) -> VonageApplicationConfig:
    return VonageApplicationConfig(APPLICATION_ID, private_key, url)


def a_call(to: str = "+447123120123") -> OutgoingCall:
    return OutgoingCall("msg_1", "app_1", "ver_1", to, None, SPEECH, "en-GB")


def a_whatsapp(to: str = "+447123120123") -> OutgoingWhatsApp:
    return OutgoingWhatsApp(
        "msg_2", "app_1", "ver_1", to, None, "123456", "pt-BR", "Your code is 123456"
    )


def call_sender(
    vonage: FakeVonageApi, key: rsa.RSAPrivateKey, event_url: str | None = None
) -> VonageCallSender:
    return VonageCallSender(
        VonageCallConfig(application(vonage.url, key), "+447700900001", event_url)
    )


def whatsapp_sender(
    vonage: FakeVonageApi, key: rsa.RSAPrivateKey, status_url: str | None = None
) -> VonageWhatsAppSender:
    return VonageWhatsAppSender(
        VonageWhatsAppConfig(application(vonage.url, key), "+447700900002", "otp_code", status_url)
    )


async def place(sender: VonageCallSender, call: OutgoingCall) -> SendReceipt:
    try:
        return await sender.call(call)
    finally:
        await sender.close()


async def send(sender: VonageWhatsAppSender, message: OutgoingWhatsApp) -> SendReceipt:
    try:
        return await sender.send_whatsapp(message)
    finally:
        await sender.close()


def signed_event(event: dict[str, Any], secret: str = SIGNATURE_SECRET) -> ReceiptRequest:
    body = json.dumps(event).encode()
    headers = {name.lower(): value for name, value in signed_callback_headers(body, secret).items()}
    return ReceiptRequest("POST", "https://otpgate.example" + ROUTE, headers, {}, {}, event, body)


def read(request: ReceiptRequest) -> list[InboundReceipt]:
    return VonageReceiptReader(SIGNATURE_SECRET).read(request)


def test_a_call_speaks_the_code_and_its_signed_events_are_taken(
    otpgate: LiveOtpgate, vonage: FakeVonageApi, private_key: rsa.RSAPrivateKey
) -> None:
    receipt = asyncio.run(place(call_sender(vonage, private_key, otpgate.url + ROUTE), a_call()))

    [made] = vonage.calls
    assert receipt.provider_message_id == made["uuid"]
    assert made["to"] == [{"type": "phone", "number": "447123120123"}]
    assert made["from"] == {"type": "phone", "number": "447700900001"}
    assert made["ncco"] == [{"action": "talk", "text": SPEECH, "language": "en-GB"}]
    assert made["event_url"] == [otpgate.url + ROUTE]
    wait_until(lambda: len(vonage.callbacks), lambda n: n == 4, 10, what="the call's events")
    assert [status for _, status in vonage.callbacks] == [204] * 4


def test_a_whatsapp_message_is_the_authentication_template_and_its_statuses_are_taken(
    otpgate: LiveOtpgate, vonage: FakeVonageApi, private_key: rsa.RSAPrivateKey
) -> None:
    sender = whatsapp_sender(vonage, private_key, otpgate.url + ROUTE)

    receipt = asyncio.run(send(sender, a_whatsapp()))

    [sent] = vonage.messages
    assert receipt.provider_message_id == sent["message_uuid"]
    assert (sent["to"], sent["from"], sent["client_ref"]) == (
        "447123120123",
        "447700900002",
        "msg_2",
    )
    template = sent["custom"]["template"]
    assert template["name"] == "otp_code" and template["language"]["code"] == "pt_BR"
    body, button = template["components"]
    assert body["parameters"] == [{"type": "text", "text": "123456"}]
    assert button["sub_type"] == "url" and button["parameters"][0]["text"] == "123456"
    wait_until(lambda: len(vonage.callbacks), lambda n: n == 2, 10, what="the statuses")
    assert [status for _, status in vonage.callbacks] == [204, 204]


@pytest.mark.parametrize(
    ("to", "status", "error"),
    [("+447123120123", "delivered", None), ("+447123120000", "undelivered", "vonage busy")],
)
def test_a_start_by_call_ends_as_vonages_events_say(
    otpgate: LiveOtpgate, vonage: FakeVonageApi, to: str, status: str, error: str | None
) -> None:
    app = otpgate.create_app(ALL_CHANNELS)

    started = otpgate.start_verification(app, to, channel="call")
    otpgate.wait_for_delivery(app, started["id"], status)

    [made] = vonage.calls
    [message] = otpgate.messages(app, started["id"])
    assert (message["channel"], message["provider"]) == ("call", "vonage")
    assert message["provider_message_id"] == made["uuid"] and message["last_error"] == error
    assert made["event_url"] == [otpgate.url + ROUTE]


@pytest.mark.parametrize(
    ("to", "status", "error"),
    [
        ("+447123120123", "delivered", None),
        ("+447123120000", "undelivered", "vonage rejected 1340"),
    ],
)
def test_a_start_by_whatsapp_ends_as_vonages_statuses_say(
    otpgate: LiveOtpgate, vonage: FakeVonageApi, to: str, status: str, error: str | None
) -> None:
    app = otpgate.create_app(ALL_CHANNELS)

    started = otpgate.start_verification(app, to, channel="whatsapp")
    otpgate.wait_for_delivery(app, started["id"], status)

    [sent] = vonage.messages
    [message] = otpgate.messages(app, started["id"])
    assert sent["client_ref"] == message["id"] and sent["webhook_url"] == otpgate.url + ROUTE
    assert (message["channel"], message["provider"], message["last_error"]) == (
        "whatsapp",
        "vonage",
        error,
    )


@pytest.mark.parametrize(
    ("status", "expected", "error"),
    [
        ("answered", DeliveryStatus.DELIVERED, None),
        ("busy", DeliveryStatus.UNDELIVERED, "vonage busy"),
        ("unanswered", DeliveryStatus.UNDELIVERED, "vonage unanswered"),
        ("timeout", DeliveryStatus.UNDELIVERED, "vonage timeout"),
        ("rejected", DeliveryStatus.UNDELIVERED, "vonage rejected"),
        ("failed", DeliveryStatus.UNDELIVERED, "vonage failed"),
        ("cancelled", DeliveryStatus.UNDELIVERED, "vonage cancelled"),
    ],
)
def test_call_events_map_to_delivery_states(
    status: str, expected: DeliveryStatus, error: str | None
) -> None:
    event = {"uuid": "call-uuid-1", "conversation_uuid": "CON-1", "status": status}

    assert read(signed_event(event)) == [
        InboundReceipt("vonage", expected, provider_message_id="call-uuid-1", error=error)
    ]


@pytest.mark.parametrize("status", ["started", "ringing", "completed"])
def test_call_events_that_are_no_last_word_say_nothing(status: str) -> None:
    assert read(signed_event({"uuid": "call-uuid-1", "status": status})) == []


def test_whatsapp_statuses_name_our_message_by_its_client_ref() -> None:
    def status(word: str, **more: Any) -> list[InboundReceipt]:
        return read(
            signed_event({"message_uuid": "m-1", "status": word, "client_ref": "msg_2", **more})
        )

    rejected = status("rejected", error={"type": "…#1340", "title": 1340})
    assert status("submitted") == [
        InboundReceipt("vonage", DeliveryStatus.SENT, message_id="msg_2")
    ]
    assert status("read")[0].status is DeliveryStatus.DELIVERED
    assert rejected == [
        InboundReceipt(
            "vonage", DeliveryStatus.UNDELIVERED, message_id="msg_2", error="vonage rejected 1340"
        )
    ]


def test_an_event_signed_right_is_taken_and_every_forgery_is_refused(otpgate: LiveOtpgate) -> None:
    event = {"uuid": "call-uuid-1", "status": "answered"}
    body = json.dumps(event).encode()
    stale_claims = {
        "iat": int(time.time()) - 3600,
        "payload_hash": hashlib.sha256(body).hexdigest(),
    }
    stale = {
        "Authorization": "Bearer " + jwt.encode(stale_claims, SIGNATURE_SECRET, algorithm="HS256")
    }

    def post(content: bytes, headers: dict[str, str]) -> int:
        merged = {"Content-Type": "application/json", **headers}
        return otpgate.http.post(ROUTE, content=content, headers=merged).status_code

    right = post(body, signed_callback_headers(body))
    wrong_secret = post(body, signed_callback_headers(body, "another-signature-secret-0123456789"))
    tampered = post(json.dumps({**event, "status": "busy"}).encode(), signed_callback_headers(body))
    unsigned = post(body, {})

    assert [right, wrong_secret, tampered, post(body, stale), unsigned] == [204, 403, 403, 403, 403]


def test_a_signed_event_without_the_secret_configured_is_refused() -> None:
    with pytest.raises(Forbidden):
        VonageReceiptReader(None).read(signed_event({"uuid": "u", "status": "answered"}))


@pytest.mark.parametrize(
    ("to", "error"),
    [("+447123120400", PermanentSendError), ("+447123120429", TransientSendError)],
)
def test_vonages_refusals_are_permanent_or_transient(
    vonage: FakeVonageApi, private_key: rsa.RSAPrivateKey, to: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"vonage .* \(HTTP \d+\)"):
        asyncio.run(place(call_sender(vonage, private_key), a_call(to)))
    with pytest.raises(error, match=r"vonage .* \(HTTP \d+\)"):
        asyncio.run(send(whatsapp_sender(vonage, private_key), a_whatsapp(to)))


def test_a_key_vonage_does_not_know_is_transient(vonage: FakeVonageApi) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(TransientSendError, match="unauthorized"):
        asyncio.run(place(call_sender(vonage, stranger), a_call()))


def settings_with(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


def test_the_start_names_a_missing_or_unusable_application_setting(
    tmp_path: Path, private_key: rsa.RSAPrivateKey
) -> None:
    key_file = tmp_path / "private.key"
    key_file.write_bytes(pem(private_key))
    not_rsa = tmp_path / "ec.key"
    not_rsa.write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    complete = {
        "vonage_application_id": APPLICATION_ID,
        "vonage_private_key_file": key_file,
        "vonage_voice_from": "+447700900001",
    }

    def refusal(**values: Any) -> str:
        with pytest.raises(ConfigError) as refused:
            composition._vonage_call_sender(settings_with(tmp_path, **{**complete, **values}))
        return str(refused.value)

    assert refusal(vonage_application_id=None).startswith("OTPGATE_VONAGE_APPLICATION_ID:")
    assert refusal(vonage_voice_from=None).startswith("OTPGATE_VONAGE_VOICE_FROM:")
    assert "cannot be read" in refusal(vonage_private_key_file=tmp_path / "missing.key")
    assert "not an RSA key" in refusal(vonage_private_key_file=not_rsa)
    assert isinstance(
        composition._vonage_call_sender(settings_with(tmp_path, **complete)), VonageCallSender
    )
    with pytest.raises(ConfigError, match=r"^OTPGATE_VONAGE_WHATSAPP_TEMPLATE:"):
        composition._vonage_whatsapp_sender(
            settings_with(tmp_path, **complete, vonage_whatsapp_from="+447700900002")
        )


def test_the_payload_hash_may_be_of_the_body_written_without_whitespace() -> None:
    """Vonage's Voice guide hashes the JSON document written compactly, its keys in order."""
    event = {"uuid": "call-uuid-1", "status": "busy"}
    body = json.dumps(event, indent=2).encode()
    compact = json.dumps(event, separators=(",", ":")).encode()
    claims = {"iat": int(time.time()), "payload_hash": hashlib.sha256(compact).hexdigest()}
    headers = {"authorization": "Bearer " + jwt.encode(claims, SIGNATURE_SECRET, algorithm="HS256")}
    request = ReceiptRequest(
        "POST", "https://otpgate.example" + ROUTE, headers, {}, {}, event, body
    )

    [receipt] = read(request)

    assert receipt.status is DeliveryStatus.UNDELIVERED
