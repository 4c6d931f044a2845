"""SMPP 3.4 over TCP through aiosmpplib's ESME: bind as transceiver, submit_sm in GSM-7 or
UCS-2 with UDH concatenation for long texts, enquire_link keepalive, reconnect with backoff,
a window of submits awaiting their resp, a throughput cap, and receipts from deliver_sm.

The library's own logger is silenced: several of its lines print a whole submit_sm, text
and all. This module logs what happens instead, without the text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

import structlog
from aiosmpplib import (
    ESME,
    NPI,
    TON,
    AbstractHook,
    AbstractRateLimiter,
    DeliverSm,
    PhoneNumber,
    SmppCommandStatus,
    SmppMessage,
    SmppSessionState,
    SubmitSm,
    SubmitSmResp,
)
from aiosmpplib.retrytimer import SimpleExponentialBackoff

from otpgate.delivery.protocol import (
    InboundReceipt,
    OutgoingSms,
    PermanentSendError,
    ReceiptSink,
    SendReceipt,
    TransientSendError,
)
from otpgate.delivery.senders.smpp_tls import TlsEsme
from otpgate.domain.gsm import is_gsm7
from otpgate.domain.verification import DeliveryStatus

NAME = "smpp"
UDHI = 0x40  # esm_class: the short message starts with a user data header
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
# Refusals about the link or the SMSC's load: another try (or provider) may pass.
TRANSIENT_STATUSES = frozenset(
    {
        SmppCommandStatus.ESME_RTHROTTLED,
        SmppCommandStatus.ESME_RMSGQFUL,
        SmppCommandStatus.ESME_RSYSERR,
        SmppCommandStatus.ESME_RSUBMITFAIL,
        SmppCommandStatus.ESME_RX_T_APPN,
        SmppCommandStatus.ESME_RINVBNDSTS,
        SmppCommandStatus.ESME_RUNKNOWNERR,
    }
)
_RECEIPT_STATES = {
    "DELIVRD": DeliveryStatus.DELIVERED,
    "UNDELIV": DeliveryStatus.UNDELIVERED,
    "EXPIRED": DeliveryStatus.UNDELIVERED,
    "REJECTD": DeliveryStatus.UNDELIVERED,
    "DELETED": DeliveryStatus.UNDELIVERED,
    "UNKNOWN": DeliveryStatus.UNDELIVERED,
}
# message_state TLV (SMPP 3.4 §5.3.2.35) when the text has no stat:
_MESSAGE_STATES = {
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    7: "UNKNOWN",
    8: "REJECTD",
}

log = structlog.get_logger("otpgate.delivery.smpp")


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    throughput: float = 0.0  # submit_sm per second; 0 = no cap
    window: int = 32
    enquire_link_seconds: float = 30.0
    timeout_seconds: float = 10.0
    reconnect_min_ms: int = 200
    tls: ssl.SSLContext | None = None  # None: plain TCP
    tls_server_name: str | None = None  # the name the SMSC's certificate must carry; host if None


class PacedRateLimiter(AbstractRateLimiter):  # type: ignore[misc]  # untyped library
    """Evenly spaced submits: at most `rate` a second, with no burst beyond one."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def limit(self) -> None:
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(self._next, now) + self._interval


class _Events(AbstractHook):  # type: ignore[misc]  # untyped library
    def __init__(self, sender: SmppSender) -> None:
        self._sender = sender

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSm):
            self._sender._writing(smpp_message.log_id)

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSmResp):
            self._sender._answered(smpp_message)
        elif isinstance(smpp_message, DeliverSm) and smpp_message.is_receipt():
            self._sender._receipt(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSm):
            self._sender._failed(smpp_message.log_id, type(error).__name__)


class SmppSender:
    name = NAME

    def __init__(self, config: SmppConfig, sink: ReceiptSink) -> None:
        self._config = config
        self._sink = sink
        self._esme: ESME | None = None
        self._runner: asyncio.Task[None] | None = None
        self._window: asyncio.Semaphore | None = None
        self._waiting: dict[str, asyncio.Future[SubmitSmResp]] = {}
        self._written: set[str] = set()  # submits on the wire, resp not yet seen
        self._withdrawn: set[str] = set()  # gave up waiting before they went out
        self._tasks: set[asyncio.Future[None]] = set()
        self._was_bound = False

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        esme = self._started()
        await self._wait_bound(esme)
        assert self._window is not None
        async with self._window:
            loop = asyncio.get_running_loop()
            answer: asyncio.Future[SubmitSmResp] = loop.create_future()
            self._waiting[sms.message_id] = answer
            try:
                await esme.broker.enqueue(self._submit_sm(sms))
                response = await asyncio.wait_for(
                    asyncio.shield(answer), self._config.timeout_seconds
                )
            except TimeoutError:
                if sms.message_id not in self._written:
                    self._withdrawn.add(sms.message_id)  # never let it go out late
                raise TransientSendError("no submit_sm_resp in time") from None
            finally:
                self._waiting.pop(sms.message_id, None)
                self._written.discard(sms.message_id)
        status = response.command_status
        if status is SmppCommandStatus.ESME_ROK:
            return SendReceipt(provider_message_id=response.message_id or None)
        error = f"smpp {status.name} (0x{int(status):08X})"
        if status in TRANSIENT_STATUSES:
            raise TransientSendError(error)
        raise PermanentSendError(error)

    def _submit_sm(self, sms: OutgoingSms) -> SubmitSm:
        sender = sms.sender or ""
        if sender.lstrip("+").isdigit():
            source = PhoneNumber(sender.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN)
        else:
            source = PhoneNumber(sender, TON.ALPHANUMERIC, NPI.UNKNOWN)
        return SubmitSm(
            short_message=sms.body,
            source=source,
            destination=PhoneNumber(sms.to.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN),
            encoding="gsm0338" if is_gsm7(sms.body) else "ucs2",
            # long texts are split by the library, each part with a concatenation UDH
            esm_class=UDHI,
            auto_message_payload=False,
            registered_delivery=0b00000001,
            log_id=sms.message_id,
        )

    def _started(self) -> ESME:
        if self._esme is None:
            config = self._config
            options: dict[str, Any] = dict(
                smsc_host=config.host,
                smsc_port=config.port,
                system_id=config.system_id,
                password=config.password,
                system_type=config.system_type,
                enquire_link_interval=float(config.enquire_link_seconds),
                socket_timeout=float(config.timeout_seconds),
                hook=_Events(self),
                rate_limiter=PacedRateLimiter(config.throughput) if config.throughput else None,
                retry_timer=SimpleExponentialBackoff(min_delay=config.reconnect_min_ms),
                log_level=logging.CRITICAL,
                log_handler=logging.NullHandler(),
            )
            if config.tls is None:
                self._esme = ESME(**options)
            else:
                server_name = config.tls_server_name or config.host
                self._esme = TlsEsme(tls=config.tls, server_name=server_name, **options)
            self._window = asyncio.Semaphore(config.window)
            self._runner = asyncio.create_task(self._run(self._esme))
        return self._esme

    async def _run(self, esme: ESME) -> None:
        watcher = asyncio.create_task(self._watch(esme))
        try:
            await esme.start()
        finally:
            watcher.cancel()

    async def _watch(self, esme: ESME) -> None:
        """Notice a lost link: submits already on the wire will get no resp on it."""
        while True:
            bound = esme.session_state is SmppSessionState.BOUND_TRX
            if bound and not self._was_bound:
                log.info("smpp_bound", host=self._config.host, port=self._config.port)
            if self._was_bound and not bound:
                log.warning("smpp_link_lost", in_flight=len(self._written))
                for message_id in list(self._written):
                    self._failed(message_id, "link lost")
            self._was_bound = bound
            await asyncio.sleep(0.05)

    async def _wait_bound(self, esme: ESME) -> None:
        deadline = time.monotonic() + min(self._config.timeout_seconds, 5.0)
        while esme.session_state is not SmppSessionState.BOUND_TRX:
            if isinstance(esme, TlsEsme) and esme.tls_refusal:
                raise TransientSendError(f"not bound to the SMSC: {esme.tls_refusal}")
            if time.monotonic() > deadline:
                raise TransientSendError("not bound to the SMSC")
            await asyncio.sleep(0.02)

    def _writing(self, message_id: str) -> None:
        if message_id in self._withdrawn:
            self._withdrawn.discard(message_id)
            # the library skips a message whose hook raises ValueError, link intact
            raise ValueError("withdrawn")
        self._written.add(message_id)

    def _answered(self, response: SubmitSmResp) -> None:
        answer = self._waiting.get(response.log_id)
        if answer is not None and not answer.done():
            answer.set_result(response)

    def _failed(self, message_id: str, why: str) -> None:
        self._written.discard(message_id)
        answer = self._waiting.get(message_id)
        if answer is not None and not answer.done():
            answer.set_exception(TransientSendError(f"submit failed ({why})"))

    def _receipt(self, deliver_sm: DeliverSm) -> None:
        receipt = read_receipt(deliver_sm)
        if receipt is None:
            return
        # the deliver_sm_resp goes out after this hook: record without holding it up
        task: asyncio.Future[None] = asyncio.ensure_future(self._sink(receipt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._esme is not None and self._runner is not None:
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(self._esme.stop(), 2.0)
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._esme = None
        self._runner = None


def read_receipt(deliver_sm: DeliverSm) -> InboundReceipt | None:
    """A receipt names its message by the receipted_message_id TLV or the text's `id:`, and
    its outcome by the text's `stat:` or the message_state TLV. When the library matched it
    to our submit (log_id), our id is used, so parts of a long text find their message."""
    fields: dict[str, Any] = deliver_sm.parse_receipt()
    tlvs = {param.tag: param.value for param in deliver_sm.optional_params or []}
    smsc_id = tlvs.get(TLV_RECEIPTED_MESSAGE_ID) or fields.get("id")
    state = fields.get("stat")
    if not state and isinstance(tlvs.get(TLV_MESSAGE_STATE), int):
        state = _MESSAGE_STATES.get(tlvs[TLV_MESSAGE_STATE])
    status = _RECEIPT_STATES.get(str(state).upper()) if state else None
    if status is None or not smsc_id:
        return None  # ENROUTE, ACCEPTD: nothing final yet
    error = fields.get("err")
    if isinstance(error, int):
        error = f"{error:03d}"
    return InboundReceipt(
        provider=NAME,
        status=status,
        provider_message_id=None if deliver_sm.log_id else str(smsc_id).rstrip("\0"),
        message_id=deliver_sm.log_id or None,
        error=None if status is DeliveryStatus.DELIVERED else f"smpp {state} err:{error}",
    )
