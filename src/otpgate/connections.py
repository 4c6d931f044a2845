"""The limits `serve` puts on connections, and the one thing uvicorn offers no public option
for: a deadline for a request's headers (docs/performance.md, "Serving stack")."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = structlog.get_logger("otpgate.http")

_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: 16\r\n"
    b"connection: close\r\n\r\nrequest too slow"
)


@dataclass(frozen=True)
class ConnectionLimits:
    header_seconds: float = 30.0  # from connect (or the last response) to the request's headers
    body_seconds: float = 60.0  # from the headers to the body's last byte (api/body_deadline.py)
    max_connections: int = 1000  # open at once in one process; past it the server says no


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for a request's headers. uvicorn has no
    public option for it (`timeout_keep_alive` starts only after a first response), so this
    subclass overrides four of its methods: the one reach into a server's internals, uvicorn
    only; granian's public `header_read_timeout` does the same. uvicorn builds one per
    connection from its own arguments, so the deadline is the class's: `serve` sets it (`use`)
    in each server process before it listens."""

    header_seconds: ClassVar[float] = ConnectionLimits.header_seconds

    @classmethod
    def use(cls, limits: ConnectionLimits) -> None:
        cls.header_seconds = limits.header_seconds

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        # the first bytes of a next request on a kept-alive connection start its deadline
        # (an idle one is closed by the keep-alive timeout)
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()
        super().data_received(data)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info("connection_too_slow", waiting_for="headers")
        self.transport.write(_TIMED_OUT)
        self.transport.close()
