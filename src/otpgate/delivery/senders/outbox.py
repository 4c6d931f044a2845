"""The developer outbox: messages are kept (sealed) for reading back, never sent."""

from __future__ import annotations

from otpgate.delivery.protocol import OutgoingSms, SendReceipt
from otpgate.domain.verification import DeliveryStatus


class OutboxSender:
    name = "outbox"

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        # "delivered" into the outbox: the message row keeps its sealed text to be read back
        return SendReceipt(
            provider_message_id=sms.message_id, status=DeliveryStatus.DELIVERED, keep_body=True
        )

    async def close(self) -> None:
        return None
