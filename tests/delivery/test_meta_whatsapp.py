"""WhatsApp through Meta's Cloud API: a local Cloud API that checks the template request and
signs its status webhooks to a running otpgate with the app secret (X-Hub-Signature-256)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers.meta import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    FakeMeta,
    hub_signature,
    status_notification,
)
from peers.otpgate import LiveOtpgate, StartOtpgate, wait_until

from otpgate import runtime as composition
from otpgate.config import ConfigError, Settings, require_receipt_credentials
from otpgate.delivery.protocol import (
    InboundReceipt,
    OutgoingWhatsApp,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)
from otpgate.delivery.senders.meta import MetaConfig, MetaReceiptReader, MetaWhatsAppSender
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import ReceiptRequest

ROUTE = "/v1/receipts/meta"
VERIFY_TOKEN = "meta-verify-token-0123456789"


@pytest.fixture
def meta() -> Iterator[FakeMeta]:
    peer = FakeMeta().start()
    yield peer
    peer.stop()


@pytest.fixture
def otpgate(start_otpgate: StartOtpgate, meta: FakeMeta) -> LiveOtpgate:
    live = start_otpgate(
        whatsapp_provider="meta",
        meta_access_token=ACCESS_TOKEN,
        meta_phone_number_id=PHONE_NUMBER_ID,
        meta_template="otp_code",
        meta_app_secret=APP_SECRET,
        meta_verify_token=VERIFY_TOKEN,
        meta_base_url=meta.url,
    )
    meta.webhook_url = live.url + ROUTE  # set in the Meta app's dashboard, not per message
    return live


def sender(meta: FakeMeta, token: str = ACCESS_TOKEN) -> MetaWhatsAppSender:
    return MetaWhatsAppSender(MetaConfig(token, PHONE_NUMBER_ID, "otp_code", meta.url, "v23.0"))


def a_whatsapp(to: str = "+447123120123", language: str = "en-GB") -> OutgoingWhatsApp:
    return OutgoingWhatsApp(
        "msg_1", "app_1", "ver_1", to, None, "123456", language, "Your code is 123456"
    )


async def send(whatsapp: MetaWhatsAppSender, message: OutgoingWhatsApp) -> SendReceipt:
    try:
        return await whatsapp.send_whatsapp(message)
    finally:
        await whatsapp.close()


def signed(document: dict[str, Any]) -> ReceiptRequest:
    body = json.dumps(document).encode()
    headers = {"x-hub-signature-256": hub_signature(body)}
    return ReceiptRequest(
        "POST", "https://otpgate.example" + ROUTE, headers, {}, {}, document, body
    )


def test_the_template_carries_the_code_in_its_body_and_copy_code_button(
    otpgate: LiveOtpgate, meta: FakeMeta
) -> None:
    receipt = asyncio.run(send(sender(meta), a_whatsapp()))

    [sent] = meta.sent
    assert receipt.provider_message_id == sent["wamid"]
    assert sent["to"] == "447123120123" and sent["biz_opaque_callback_data"] == "msg_1"
    assert sent["template"]["name"] == "otp_code"
    assert sent["template"]["language"] == {"policy": "deterministic", "code": "en_GB"}
    body, button = sent["template"]["components"]
    assert body == {"type": "body", "parameters": [{"type": "text", "text": "123456"}]}
    assert button == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "123456"}],
    }
    wait_until(lambda: len(meta.callbacks), lambda n: n == 2, 10, what="sent and delivered")
    assert [status for _, status in meta.callbacks] == [204, 204]


@pytest.mark.parametrize(
    ("to", "status", "error"),
    [("+447123120123", "delivered", None), ("+447123120000", "undelivered", "meta failed 131026")],
)
def test_a_start_by_whatsapp_ends_as_metas_webhook_says(
    otpgate: LiveOtpgate, meta: FakeMeta, to: str, status: str, error: str | None
) -> None:
    app = otpgate.create_app({"channels": ["sms", "whatsapp"]})

    started = otpgate.start_verification(app, to, channel="whatsapp")
    otpgate.wait_for_delivery(app, started["id"], status)

    [sent] = meta.sent
    [message] = otpgate.messages(app, started["id"])
    assert sent["biz_opaque_callback_data"] == message["id"]
    assert (message["channel"], message["provider"], message["provider_message_id"]) == (
        "whatsapp",
        "meta",
        sent["wamid"],
    )
    assert message["last_error"] == error


@pytest.mark.parametrize(
    ("word", "expected", "error"),
    [
        ("sent", DeliveryStatus.SENT, None),
        ("delivered", DeliveryStatus.DELIVERED, None),
        ("read", DeliveryStatus.DELIVERED, None),
        ("failed", DeliveryStatus.UNDELIVERED, "meta failed 131026"),
    ],
)
def test_statuses_map_to_delivery_states(
    word: str, expected: DeliveryStatus, error: str | None
) -> None:
    status: dict[str, Any] = {"id": "wamid.1", "status": word, "recipient_id": "447123120123"}
    if word == "failed":
        status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    ours = {**status, "biz_opaque_callback_data": "msg_1"}
    reader = MetaReceiptReader(APP_SECRET, None)

    assert reader.read(signed(status_notification([status]))) == [
        InboundReceipt("meta", expected, provider_message_id="wamid.1", error=error)
    ]
    assert reader.read(signed(status_notification([ours]))) == [
        InboundReceipt("meta", expected, message_id="msg_1", error=error)
    ]


def test_an_inbound_message_notification_carries_no_receipt() -> None:
    inbound = status_notification([])
    inbound["entry"][0]["changes"][0]["value"]["messages"] = [{"from": "447123120123"}]

    assert MetaReceiptReader(APP_SECRET, None).read(signed(inbound)) == []


def test_a_webhook_signed_right_is_taken_and_every_forgery_is_refused(
    otpgate: LiveOtpgate,
) -> None:
    document = status_notification([{"id": "wamid.1", "status": "delivered"}])
    body = json.dumps(document).encode()

    def post(content: bytes, signature: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return otpgate.http.post(ROUTE, content=content, headers=headers).status_code

    right = post(body, hub_signature(body))
    wrong_secret = post(body, hub_signature(body, "another-app-secret-0123456789"))
    tampered = post(body.replace(b"delivered", b"failed"), hub_signature(body))
    unsigned = post(body, None)

    assert [right, wrong_secret, tampered, unsigned] == [204, 403, 403, 403]


def test_the_subscription_handshake_echoes_the_challenge_for_the_right_token(
    otpgate: LiveOtpgate,
) -> None:
    def subscribe(token: str) -> Any:
        query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
        return otpgate.http.get(ROUTE, params=query)

    accepted, refused = subscribe(VERIFY_TOKEN), subscribe("not-the-verify-token")

    assert (accepted.status_code, accepted.text) == (200, "1158201444")
    assert accepted.headers["content-type"].startswith("text/plain")
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("to", "error", "code"),
    [
        ("+447123120400", PermanentSendError, 131030),
        ("+447123120429", TransientSendError, 130429),
    ],
)
def test_graph_errors_are_permanent_or_transient_by_their_code(
    meta: FakeMeta, to: str, error: type[Exception], code: int
) -> None:
    with pytest.raises(error, match=rf"^meta error {code} \(HTTP 400\)$"):
        asyncio.run(send(sender(meta), a_whatsapp(to)))


def test_a_bad_access_token_is_transient(meta: FakeMeta) -> None:
    with pytest.raises(TransientSendError, match=r"meta error 190 \(HTTP 401\)"):
        asyncio.run(send(sender(meta, "EAAG-expired"), a_whatsapp()))


def test_the_start_names_a_missing_meta_setting(tmp_path: Path) -> None:
    complete = {
        "whatsapp_provider": "meta",
        "meta_access_token": ACCESS_TOKEN,
        "meta_phone_number_id": PHONE_NUMBER_ID,
        "meta_template": "otp_code",
        "meta_app_secret": APP_SECRET,
    }

    def settings(**values: Any) -> Settings:
        return Settings(_env_file=None, data_dir=tmp_path, **{**complete, **values})  # type: ignore[call-arg]

    for name in ("meta_access_token", "meta_phone_number_id", "meta_template"):
        with pytest.raises(ConfigError, match=rf"^OTPGATE_{name.upper()}: required by"):
            composition._meta_sender(settings(**{name: None}))
    with pytest.raises(ConfigError, match=r"^OTPGATE_META_APP_SECRET:"):
        require_receipt_credentials(settings(meta_app_secret=None))
    assert isinstance(composition._meta_sender(settings()), MetaWhatsAppSender)
