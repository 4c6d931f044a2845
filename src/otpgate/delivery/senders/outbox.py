"""The developer outbox: messages, calls and WhatsApp messages are kept (sealed) for reading
back, never sent."""

from __future__ import annotations

from otpgate.delivery.protocol import OutgoingCall, OutgoingSms, OutgoingWhatsApp, SendReceipt
from otpgate.domain.verification import DeliveryStatus


def _kept(message_id: str) -> SendReceipt:
    # "delivered" into the outbox: the message row keeps its sealed text to be read back
    return SendReceipt(
        provider_message_id=message_id, status=DeliveryStatus.DELIVERED, keep_body=True
    )


class OutboxSender:
    """The SmsSender, CallSender and WhatsAppSender of the `outbox` provider."""

    name = "outbox"

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        return _kept(sms.message_id)

    async def call(self, call: OutgoingCall) -> SendReceipt:
        return _kept(call.message_id)

    async def send_whatsapp(self, message: OutgoingWhatsApp) -> SendReceipt:
        return _kept(message.message_id)

    async def close(self) -> None:
        return None
