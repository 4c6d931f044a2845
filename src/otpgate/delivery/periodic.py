"""A job beside delivery that runs at start and then every so often, until delivery stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from structlog.typing import FilteringBoundLogger


async def every(
    seconds: float,
    stop: asyncio.Event,
    work: Callable[[], Awaitable[object]],
    log: FilteringBoundLogger,
    error_event: str,
) -> None:
    """Run `work` at once, then `seconds` after each run ends, until `stop`. An error is
    logged as `error_event` and the next run tries again: a hiccup never ends the job."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception(error_event)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
