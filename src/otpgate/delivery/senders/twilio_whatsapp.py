"""Twilio's Messages API for WhatsApp: an approved content template (`ContentSid`) whose
variable 1 is the code, from a `whatsapp:` sender; status callbacks as for SMS."""

from __future__ import annotations

import json
from dataclasses import dataclass

from otpgate.delivery.protocol import OutgoingWhatsApp, SendReceipt
from otpgate.delivery.senders.twilio import NAME, TwilioAccount


@dataclass(frozen=True)
class TwilioWhatsAppConfig:
    account_sid: str
    auth_token: str
    sender: str  # the WhatsApp sender's number, E.164
    content_sid: str  # HX…: an authentication template with {{1}} for the code
    base_url: str
    status_callback: str | None
    timeout_seconds: float = 10.0


class TwilioWhatsAppSender:
    name = NAME

    def __init__(self, config: TwilioWhatsAppConfig) -> None:
        self._config = config
        self._account = TwilioAccount(
            config.account_sid, config.auth_token, config.base_url, config.timeout_seconds
        )

    async def send_whatsapp(self, message: OutgoingWhatsApp) -> SendReceipt:
        # from the business's WhatsApp number: an app's SMS sender id is no WhatsApp sender
        form = {
            "To": f"whatsapp:{message.to}",
            "From": f"whatsapp:{self._config.sender}",
            "ContentSid": self._config.content_sid,
            "ContentVariables": json.dumps({"1": message.code}),
        }
        if self._config.status_callback:
            form["StatusCallback"] = self._config.status_callback
        sid = await self._account.create("Messages", form)
        return SendReceipt(provider_message_id=sid)

    async def close(self) -> None:
        await self._account.close()
