"""Receipts from every provider, by HTTP callback or on an SMPP session, into the tracker."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog

from otpgate.delivery.protocol import InboundReceipt, ReceiptReader
from otpgate.domain.errors import NotFound
from otpgate.service.deliveries import DeliveryTracker
from otpgate.service.ports import ReceiptRequest, ReceiptUpdate

log = structlog.get_logger("otpgate.delivery.receipts")


class ReceiptInbox:
    def __init__(self, readers: Mapping[str, ReceiptReader], tracker: DeliveryTracker) -> None:
        self._readers = dict(readers)
        self._tracker = tracker

    def accept(self, provider: str, request: ReceiptRequest) -> int:
        """Check and record one receipt call; returns how many receipts it carried."""
        reader = self._readers.get(provider)
        if reader is None:
            raise NotFound(f"no receipts are taken for provider {provider!r}")
        receipts = reader.read(request)
        for receipt in receipts:
            self.record(receipt)
        return len(receipts)

    def record(self, receipt: InboundReceipt) -> None:
        changed = self._tracker.record_receipt(
            ReceiptUpdate(
                provider=receipt.provider,
                status=receipt.status,
                provider_message_id=receipt.provider_message_id,
                message_id=receipt.message_id,
                error=receipt.error,
            )
        )
        log.info(
            "receipt",
            provider=receipt.provider,
            provider_message_id=receipt.provider_message_id,
            message_id=receipt.message_id,
            status=receipt.status.value,
            applied=changed,
        )

    async def sink(self, receipt: InboundReceipt) -> None:
        """For senders that receive receipts on their own connection."""
        await asyncio.to_thread(self.record, receipt)
