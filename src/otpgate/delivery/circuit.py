"""A per-provider circuit breaker: after a run of transient failures, skip the provider for a
while instead of making every message wait out its timeout; then let one message try it."""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._monotonic = monotonic
        self._failures = 0
        self._open_until: float | None = None
        self._trial = False  # half-open: one message is testing the provider

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def seconds_until_trial(self) -> float:
        """How long until `allows` may let a message try again: 0 when closed; while a trial
        is on, the reset period (the most it can stay shut after a failed trial), so the
        messages that met it do not come back again and again while the trial waits."""
        if self._open_until is None:
            return 0.0
        if self._trial:
            return self._reset_seconds
        return max(0.0, self._open_until - self._monotonic())

    def allows(self) -> bool:
        if self._open_until is None:
            return True
        if self._trial or self._monotonic() < self._open_until:
            return False
        self._trial = True
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._open_until = None
        self._trial = False

    def failed(self) -> None:
        self._failures += 1
        if self._trial or self._failures >= self._threshold:
            self._open_until = self._monotonic() + self._reset_seconds
        self._trial = False
