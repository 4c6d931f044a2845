"""SMPP over TLS: aiosmpplib's ESME with each new link wrapped in TLS before its bind, and
the client SSL context (system CAs or a bundle, the server name checked by default)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import structlog
from aiosmpplib import ESME, BindTransceiver, SmppMessage

log = structlog.get_logger("otpgate.delivery.smpp")


def tls_context(*, ca_file: Path | None = None, check_hostname: bool = True) -> ssl.SSLContext:
    """A client context that verifies the SMSC's chain always, and its name unless told not.

    Raises OSError or ssl.SSLError when the CA file cannot be read or holds no certificate.
    """
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.check_hostname = check_hostname
    return context


class TlsEsme(ESME):  # type: ignore[misc]  # untyped library
    """The library opens plain TCP inside `connect()` and takes no SSL context. The bind is
    the first PDU on every new link, so the link becomes TLS just before it goes out (the
    bytes on the wire are those of a direct TLS connection), under the bind's own timeout."""

    _writer: asyncio.StreamWriter | None  # the library's own, declared for the type checker

    def __init__(self, *, tls: ssl.SSLContext, server_name: str, **options: Any) -> None:
        super().__init__(**options)
        self._tls = tls
        self._server_name = server_name
        # why the last handshake failed; the sender reports it instead of waiting for a bind
        self.tls_refusal: str | None = None

    async def _send_data(self, smpp_message: SmppMessage) -> None:
        # BindTransmitter and BindReceiver are subclasses of BindTransceiver
        if isinstance(smpp_message, BindTransceiver):
            await self._handshake()
        await super()._send_data(smpp_message)

    async def _handshake(self) -> None:
        assert self._writer is not None  # connect() opened the link just before the bind
        try:
            await self._writer.start_tls(self._tls, server_hostname=self._server_name)
        except ssl.SSLCertVerificationError as exc:
            self._refused(f"TLS certificate refused: {exc.verify_message}")
            raise
        except ssl.SSLError as exc:
            self._refused(f"TLS handshake failed: {exc.reason or exc}")
            raise
        self.tls_refusal = None

    def _refused(self, why: str) -> None:
        if why != self.tls_refusal:  # once per cause, not on every reconnect
            log.error("smpp_tls_refused", host=self.smsc_host, reason=why)
        self.tls_refusal = why

    async def _disconnect(self) -> None:
        try:
            await super()._disconnect()
        except NotImplementedError:
            # a TLS transport has no half-close (write_eof); the unbind is out: close it whole
            if self._writer is not None:
                self._writer.close()
            self._writer = None
