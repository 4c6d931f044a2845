"""Vonage's Messages API for WhatsApp: `POST /v1/messages` with a `custom` message that is
WhatsApp's authentication template (the code in its body and copy-code button); statuses come
to the Vonage receipt route, JWT-signed, naming our message by its `client_ref`."""

from __future__ import annotations

from dataclasses import dataclass

from otpgate.delivery.protocol import OutgoingWhatsApp, SendReceipt, TransientSendError
from otpgate.delivery.senders.vonage import NAME
from otpgate.delivery.senders.vonage_application import (
    VonageApplicationClient,
    VonageApplicationConfig,
)
from otpgate.delivery.senders.vonage_voice import digits
from otpgate.delivery.senders.whatsapp_template import authentication_template


@dataclass(frozen=True)
class VonageWhatsAppConfig:
    application: VonageApplicationConfig
    sender: str  # the WhatsApp Business number, E.164
    template: str  # an approved authentication template, in every language it is sent in
    status_url: str | None


class VonageWhatsAppSender:
    name = NAME

    def __init__(self, config: VonageWhatsAppConfig) -> None:
        self._config = config
        self._client = VonageApplicationClient(config.application)

    async def send_whatsapp(self, message: OutgoingWhatsApp) -> SendReceipt:
        config = self._config
        document: dict[str, object] = {
            "message_type": "custom",
            "channel": "whatsapp",
            "to": digits(message.to),
            "from": digits(config.sender),
            "custom": {
                "type": "template",
                "template": authentication_template(
                    config.template, message.language, message.code
                ),
            },
            "client_ref": message.message_id,
        }
        if config.status_url:
            document["webhook_url"] = config.status_url
        accepted = await self._client.post("/v1/messages", document, accepted=202)
        uuid = accepted.get("message_uuid")
        if not isinstance(uuid, str):
            raise TransientSendError("vonage answered without the message's uuid")
        return SendReceipt(provider_message_id=uuid)

    async def close(self) -> None:
        await self._client.close()
