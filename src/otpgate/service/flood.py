"""A coarse requests-per-minute limit per caller address, to protect the service itself.

Every request passes here, so the shared counter is not touched per request: each process
counts locally and adds a batch (a fiftieth of the limit) to the shared counter at a time.
A caller is refused once the shared total passes the limit, by each process at its next
batch; with P processes a caller can get up to P batches past the limit. Coarse on purpose.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from otpgate.domain.limits import MINUTE, Quota
from otpgate.service.ports import Clock, Counters, Transactions

BATCHES_PER_LIMIT = 50


@dataclass(frozen=True)
class FloodVerdict:
    retry_after: int | None  # refused, for that many seconds
    flush: int = 0  # requests to add to the shared counter now (with `settle`)
    quota: Quota | None = None


class FloodGuard:
    def __init__(
        self, transactions: Transactions, counters: Counters, clock: Clock, limit_per_minute: int
    ) -> None:
        self._transactions = transactions
        self._counters = counters
        self._clock = clock
        self._limit = limit_per_minute
        self._batch = max(1, limit_per_minute // BATCHES_PER_LIMIT)
        self._lock = threading.Lock()
        self._window = -1
        self._pending: dict[str, int] = {}
        self._refused: set[str] = set()

    def count(self, caller: str) -> FloodVerdict:
        """Cheap, in memory: count one request; `flush` says when to call `settle`."""
        quota = Quota("flood_per_caller_minute", caller, self._limit, MINUTE)
        now = self._clock.now()
        with self._lock:
            window = quota.window_start(now)
            if window != self._window:  # a new minute: every caller starts again
                self._window, self._pending, self._refused = window, {}, set()
            if caller in self._refused:
                return FloodVerdict(quota.retry_after(now))
            pending = self._pending.get(caller, 0) + 1
            if pending < self._batch:
                self._pending[caller] = pending
                return FloodVerdict(None)
            self._pending.pop(caller, None)
        return FloodVerdict(None, flush=pending, quota=quota)

    def settle(self, verdict: FloodVerdict) -> int | None:
        """Add a batch to the shared counter (blocking I/O); seconds to wait when refused."""
        assert verdict.quota is not None
        now = self._clock.now()
        with self._transactions() as tx:
            total = self._counters.add(tx, verdict.quota.bucket(now), now)
        if total <= self._limit:
            return None
        with self._lock:
            if verdict.quota.window_start(now) == self._window:
                self._refused.add(verdict.quota.subject)
        return verdict.quota.retry_after(now)


class FailedAuthentications:
    """Failed authentications per caller address: past `limit_per_minute` (across nodes, in
    the shared counters) the caller is refused until the minute ends. Failures are rare, so
    each is counted in the shared counter at once; refusals are remembered in the process."""

    def __init__(
        self, transactions: Transactions, counters: Counters, clock: Clock, limit_per_minute: int
    ) -> None:
        self._transactions = transactions
        self._counters = counters
        self._clock = clock
        self._limit = limit_per_minute
        self._lock = threading.Lock()
        self._window = -1
        self._refused: set[str] = set()

    def retry_after(self, caller: str) -> int | None:
        """Cheap, in memory: seconds the caller must wait, or None."""
        if not self._refused:  # nobody is refused (nearly always): nothing to compute
            return None
        quota = self._quota(caller)
        now = self._clock.now()
        with self._lock:
            if quota.window_start(now) != self._window:
                self._window, self._refused = quota.window_start(now), set()
            return quota.retry_after(now) if caller in self._refused else None

    def failed(self, caller: str) -> None:
        """Count one failed authentication (blocking I/O)."""
        quota = self._quota(caller)
        now = self._clock.now()
        with self._transactions() as tx:
            total = self._counters.add(tx, quota.bucket(now), now)
        if total <= self._limit:
            return
        with self._lock:
            if quota.window_start(now) == self._window:
                self._refused.add(caller)
            else:
                self._window, self._refused = quota.window_start(now), {caller}

    def _quota(self, caller: str) -> Quota:
        return Quota("failed_authentications_per_caller_minute", caller, self._limit, MINUTE)
