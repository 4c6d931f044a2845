"""Counters in Redis while it answers, in the database while it does not.

A Redis outage must not take the service down: each call that fails over Redis is made on
the database instead, Redis is tried again after a pause, and each change of store is logged
once. Counts made on one store are not seen on the other, so a limit can let through up to
twice its count around a switch; the daily limits bound that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import redis
import structlog

from otpgate.domain.limits import Bucket
from otpgate.service.ports import Counters, Transaction

log = structlog.get_logger("otpgate.counters")
T = TypeVar("T")
RETRY_SECONDS = 5.0


class FallbackCounters:
    def __init__(
        self,
        primary: Counters,
        fallback: Counters,
        *,
        retry_seconds: float = RETRY_SECONDS,
        on_fallback: Callable[[], None] = lambda: None,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._retry_seconds = retry_seconds
        self._on_fallback = on_fallback
        self._down_since: float | None = None
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _call(self, use: Callable[[Counters], T]) -> T:
        with self._lock:
            down_since = self._down_since
        if down_since is not None and time.monotonic() - down_since < self._retry_seconds:
            return use(self._fallback)
        try:
            answer = use(self._primary)
        except redis.RedisError as exc:  # down, slow, out of memory, read-only: all the same
            with self._lock:
                first = self._down_since is None
                self._down_since = time.monotonic()
            if first:
                log.error("redis_unreachable", fallback="database", error=type(exc).__name__)
                self._on_fallback()
            return use(self._fallback)
        if down_since is not None:
            with self._lock:
                self._down_since = None
            log.warning("redis_back", store="redis")
        return answer

    def acquire(self, tx: Transaction, buckets: Sequence[Bucket], now: datetime) -> int | None:
        return self._call(lambda counters: counters.acquire(tx, buckets, now))

    def add(self, tx: Transaction, bucket: Bucket, now: datetime) -> int:
        return self._call(lambda counters: counters.add(tx, bucket, now))

    def read(self, keys: Sequence[str], now: datetime) -> list[int]:
        return self._call(lambda counters: counters.read(keys, now))
