"""Receipts from every provider, by HTTP callback or on an SMPP session, into the tracker.

A receipt that comes on a provider's own session (SMPP's deliver_sm) is acknowledged to the
provider before it is written, and the provider never sends it again: when the database
cannot take it (down, a deadlock), the inbox keeps it and tries again, with a backoff, until
it is recorded. A receipt by HTTP callback is written before it is answered, so the
provider's own retries cover it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from functools import partial

import structlog

from otpgate.delivery.protocol import InboundReceipt, ReceiptHandshake, ReceiptReader
from otpgate.domain.errors import NotFound
from otpgate.service.deliveries import DeliveryTracker
from otpgate.service.ports import Executor, ReceiptRequest, ReceiptUpdate

log = structlog.get_logger("otpgate.delivery.receipts")

BATCH_SIZE = 500
RETRY_FIRST_SECONDS = 0.1
RETRY_LONGEST_SECONDS = 5.0  # PostgreSQL restarts in seconds: a receipt waits no longer


class ReceiptInbox:
    def __init__(
        self,
        readers: Mapping[str, ReceiptReader],
        tracker: DeliveryTracker,
        executor: Executor,
        *,
        transient: Callable[[BaseException], bool],
        on_retry: Callable[[], None],
    ) -> None:
        self._readers = dict(readers)
        self._executor = executor
        self._tracker = tracker
        self._transient = transient  # the database out or a deadlock, not a bug
        self._on_retry = on_retry  # a metric
        self._waiting: list[tuple[InboundReceipt, asyncio.Future[None]]] = []
        self._flushing = False
        self._flusher: asyncio.Future[None] | None = None

    def challenge(self, provider: str, request: ReceiptRequest) -> str | None:
        """What to answer a provider's proof of the route with, when `request` is one."""
        reader = self._reader(provider)
        return reader.challenge(request) if isinstance(reader, ReceiptHandshake) else None

    def accept(self, provider: str, request: ReceiptRequest) -> int:
        """Check and record one receipt call; returns how many receipts it carried."""
        receipts = self._reader(provider).read(request)
        for receipt in receipts:
            self.record(receipt)
        return len(receipts)

    def _reader(self, provider: str) -> ReceiptReader:
        reader = self._readers.get(provider)
        if reader is None:
            raise NotFound(f"no receipts are taken for provider {provider!r}")
        return reader

    def record(self, receipt: InboundReceipt) -> None:
        changed = self._tracker.record_receipt(_update(receipt))
        log.info(
            "receipt",
            provider=receipt.provider,
            provider_message_id=receipt.provider_message_id,
            message_id=receipt.message_id,
            status=receipt.status.value,
            applied=changed,
        )

    async def sink(self, receipt: InboundReceipt) -> None:
        """For senders that receive receipts on their own connection. Receipts that arrive
        while a batch is being written go together in the next one (a group commit)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((receipt, done))
        if not self._flushing:
            self._flushing = True
            self._flusher = asyncio.ensure_future(self._flush())
        await done

    async def _flush(self) -> None:
        pause = RETRY_FIRST_SECONDS
        try:
            while self._waiting:
                batch = self._waiting[:BATCH_SIZE]
                self._waiting = self._waiting[BATCH_SIZE:]
                try:
                    receipts = [receipt for receipt, _ in batch]
                    await self._executor.run(partial(self._record_many, receipts))
                except Exception as exc:
                    if not self._transient(exc):
                        log.exception("receipts_not_recorded", count=len(batch))
                        for _, done in batch:
                            done.set_exception(exc)
                        continue
                    # acknowledged already: first in line again, with what came meanwhile
                    self._waiting = batch + self._waiting
                    self._on_retry()
                    # the class only: a driver's message may quote the statement's values
                    log.warning(
                        "receipts_retried",
                        count=len(self._waiting),
                        seconds=pause,
                        error=type(exc).__name__,
                    )
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_LONGEST_SECONDS)
                else:
                    pause = RETRY_FIRST_SECONDS
                    for _, done in batch:
                        done.set_result(None)
        finally:
            self._flushing = False

    def _record_many(self, receipts: list[InboundReceipt]) -> None:
        changed = self._tracker.record_receipts([_update(receipt) for receipt in receipts])
        log.info("receipts", provider=receipts[0].provider, count=len(receipts), applied=changed)


def _update(receipt: InboundReceipt) -> ReceiptUpdate:
    return ReceiptUpdate(
        provider=receipt.provider,
        status=receipt.status,
        provider_message_id=receipt.provider_message_id,
        message_id=receipt.message_id,
        error=receipt.error,
    )
