"""The expiry sweep: beside delivery, on every node, erases the codes of verifications past
their expiry, a small batch at a time, and queues the status webhook of each that was pending.

A pending verification expires when it is read, with nothing written; this sweep is what
tells its app. Each batch and its events are one transaction, and a code is erased once, so
several workers on several nodes report each expiry once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from otpgate.delivery.periodic import every
from otpgate.domain.verification import Status, Verification
from otpgate.service.ports import Clock, Executor, ExpiryStore, Transaction

log = structlog.get_logger("otpgate.expiry")

BATCH_SIZE = 200
BATCH_PAUSE_SECONDS = 0.02  # between batches: requests get the write lock in between


class ExpirySweep:
    def __init__(
        self,
        store: ExpiryStore,
        executor: Executor,
        clock: Clock,
        on_expired: Callable[[Transaction, Verification], None],
        *,
        sweep_seconds: float,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._store = store
        self._executor = executor
        self._clock = clock
        self._on_expired = on_expired  # status webhooks
        self._sweep_seconds = sweep_seconds
        self._batch_size = batch_size

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep at start, then every `sweep_seconds`, until `stop`."""
        await every(self._sweep_seconds, stop, lambda: self.sweep(stop), log, "expiry_sweep_error")

    async def sweep(self, stop: asyncio.Event | None = None) -> int:
        """Batches until one comes back short; returns how many pending ones expired."""
        expired = 0
        while stop is None or not stop.is_set():
            found, reported = await self._executor.run(self._sweep_batch)
            expired += reported
            if found < self._batch_size:
                break
            await asyncio.sleep(BATCH_PAUSE_SECONDS)
        if expired:
            log.info("verifications_expired", count=expired)
        return expired

    def _sweep_batch(self) -> tuple[int, int]:
        now = self._clock.now()
        with self._executor.transaction() as tx:
            erased = self._store.erase_expired_codes(tx, now, self._batch_size)
            # only a pending one's expiry is news: the others told their apps when they ended
            pending = [found for found in erased if found.status is Status.PENDING]
            for verification in pending:
                self._on_expired(tx, verification)
        return len(erased), len(pending)
