"""The developer outbox: messages are kept (sealed) for reading back, never sent."""

from __future__ import annotations

import asyncio

from otpgate.delivery.protocol import OutgoingSms, SendReceipt
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import Clock, DevOutbox, OutboxEntry
from otpgate.service.sealing import Sealer


class OutboxSender:
    name = "outbox"

    def __init__(self, outbox: DevOutbox, sealer: Sealer, clock: Clock) -> None:
        self._outbox = outbox
        self._sealer = sealer
        self._clock = clock

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        entry = OutboxEntry(
            id=sms.message_id,
            app_id=sms.app_id,
            to=sms.to,
            sender=sms.sender,
            body_sealed=self._sealer.seal(sms.body, sms.message_id),
            verification_id=sms.verification_id,
            created_at=self._clock.now(),
        )
        await asyncio.to_thread(self._outbox.deposit, entry)
        return SendReceipt(provider_message_id=sms.message_id, status=DeliveryStatus.DELIVERED)

    async def close(self) -> None:
        return None
