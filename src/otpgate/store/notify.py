"""PostgreSQL LISTEN/NOTIFY: a queued message wakes the delivery workers of every node at the
commit, so they need not poll fast to deliver fast."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
import structlog

from otpgate.store.channels import CHANNEL

log = structlog.get_logger("otpgate.store")

RECONNECT_SECONDS = 2.0


class MessageNotifications:
    """Listens on its own connection (outside the pool) and calls `on_queued` per
    notification; the worker's slow poll covers the moments it is reconnecting."""

    def __init__(self, url: str, on_queued: Callable[[], None]) -> None:
        self._url = url
        self._on_queued = on_queued

    async def run(self, stop: asyncio.Event) -> None:
        lost = False
        while not stop.is_set():
            try:
                await _until(stop, self._listen())
            except psycopg.Error as exc:
                if not lost:  # once per outage, not once per retry
                    log.warning("message_notifications_lost", error=type(exc).__name__)
                lost = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            log.info("message_notifications_listening")
            self._on_queued()  # what was queued while no one listened
            async for _ in connection.notifies():
                self._on_queued()


async def _until(stop: asyncio.Event, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or `stop` is set (then cancel it, closing its connection)."""
    working = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not working.done():
            working.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await working
    if working.done() and not working.cancelled():
        working.result()  # its error, if any, is the caller's to log
