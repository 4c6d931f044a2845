"""The retention job: beside delivery, on every node, deletes what is older than the
retention period, a small batch at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import structlog

from otpgate.delivery.periodic import every
from otpgate.service.ports import Clock, Executor, RetentionStore, Transaction

log = structlog.get_logger("otpgate.retention")

SWEEP_SECONDS = 600.0
BATCH_PAUSE_SECONDS = 0.05  # between batches: requests get the rows and locks in between


class RetentionJob:
    def __init__(
        self,
        store: RetentionStore,
        executor: Executor,
        clock: Clock,
        *,
        retention: timedelta,
        batch_size: int,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._store = store
        self._executor = executor
        self._clock = clock
        self._retention = retention
        self._batch_size = batch_size
        self._sweep_seconds = sweep_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep at start, then every `sweep_seconds`, until `stop`."""
        await every(self._sweep_seconds, stop, lambda: self.sweep(stop), log, "retention_error")

    async def sweep(self, stop: asyncio.Event | None = None) -> int:
        """Delete everything past retention; returns how many verifications went."""
        cutoff = self._clock.now() - self._retention
        deleted = await self._drain(self._store.delete_verifications_before, cutoff, stop)
        await self._drain(self._store.delete_records_before, cutoff, stop)
        if deleted:
            log.info("retention_deleted", verifications=deleted, before=cutoff.isoformat())
        return deleted

    async def _drain(
        self,
        purge: Callable[[Transaction, datetime, int], int],
        cutoff: datetime,
        stop: asyncio.Event | None,
    ) -> int:
        """Batches until one comes back short; a stop ends it between two batches."""
        deleted = 0
        while stop is None or not stop.is_set():
            count = await self._executor.run(partial(self._purge_batch, purge, cutoff))
            deleted += count
            if count < self._batch_size:
                break
            await asyncio.sleep(BATCH_PAUSE_SECONDS)
        return deleted

    def _purge_batch(
        self, purge: Callable[[Transaction, datetime, int], int], cutoff: datetime
    ) -> int:
        with self._executor.transaction() as tx:
            return purge(tx, cutoff, self._batch_size)
