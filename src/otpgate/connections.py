"""The HTTP/1.1 protocol `serve` runs: uvicorn's, with deadlines for a request's headers and
body and a cap on open connections, so stalled clients cannot hold the process's descriptors."""

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
_FULL = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 20\r\n"
    b"retry-after: 1\r\nconnection: close\r\n\r\ntoo many connections"
)


@dataclass(frozen=True)
class ConnectionLimits:
    header_seconds: float = 30.0  # from connect (or the last response) to the request's headers
    body_seconds: float = 60.0  # from the headers to the body's last byte
    max_connections: int = 1000  # open at once in one process; the next is answered 503


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with two deadlines and a connection cap. uvicorn builds
    one per connection from its own arguments, so the limits are the class's: `serve` sets
    them (`use`) in each server process before it listens."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    @classmethod
    def use(cls, limits: ConnectionLimits) -> None:
        cls.limits = limits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("connection_refused", reason="too many connections")
            transport.write(_FULL)
            transport.close()
            return
        self._arm(self.limits.header_seconds, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body:
            self._arm(self.limits.body_seconds, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        # the first bytes of a next request on a kept-alive connection start its deadline
        # (an idle one is closed by the keep-alive timeout)
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm(self.limits.header_seconds, "headers")
        super().data_received(data)

    def _arm(self, seconds: float, waiting_for: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, waiting_for)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, waiting_for: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info("connection_too_slow", waiting_for=waiting_for)
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(_TIMED_OUT)
        self.transport.close()
