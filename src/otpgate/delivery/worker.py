"""Drains the message queue: lease due messages, hand each to a provider, record the results."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog

from otpgate.delivery.circuit import CircuitBreaker
from otpgate.delivery.periodic import every
from otpgate.delivery.protocol import (
    CallSender,
    OutgoingCall,
    OutgoingSms,
    OutgoingWhatsApp,
    PermanentSendError,
    SendReceipt,
    SmsSender,
    TransientSendError,
    WhatsAppSender,
)
from otpgate.domain.channels import Channel, ChannelMessage
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import (
    Clock,
    DeliveryResult,
    Executor,
    MessageQueue,
    Observer,
    QueuedMessage,
    Transaction,
)
from otpgate.service.sealing import Sealer

log = structlog.get_logger("otpgate.delivery")

MAX_DELIVERY_ATTEMPTS = 8
LEASE_SECONDS = 30
UPKEEP_SECONDS = 5.0

# one provider's try at one message: its name, and the call that sends it there
Attempt = tuple[str, Callable[[], Awaitable[SendReceipt]]]


class DeliveryWorker:
    def __init__(
        self,
        queue: MessageQueue,
        senders: Sequence[SmsSender],
        sealer: Sealer,
        clock: Clock,
        observer: Observer,
        executor: Executor,
        *,
        batch_size: int = 64,
        batches_in_flight: int = 2,
        poll_seconds: float = 0.25,
        retry_base_seconds: float = 1.0,
        lease_seconds: int = LEASE_SECONDS,
        breakers: dict[str, CircuitBreaker] | None = None,
        on_sweep: Callable[[datetime], Any] | None = None,
        on_finished: Callable[[Transaction, Sequence[QueuedMessage], Sequence[DeliveryResult]], Any]
        | None = None,
        companions: Sequence[Callable[[asyncio.Event], Awaitable[None]]] = (),
        routes: Callable[[set[str]], dict[str, Sequence[str]]] | None = None,
        on_unopenable: Callable[[], Any] = lambda: None,
        call_senders: Sequence[CallSender] = (),
        whatsapp_senders: Sequence[WhatsAppSender] = (),
        steps: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._queue = queue
        self._senders = list(senders)
        self._senders_by_name = {sender.name: sender for sender in self._senders}
        # each channel's failover order (OTPGATE_VOICE_PROVIDER, OTPGATE_WHATSAPP_PROVIDER)
        self._call_senders = list(call_senders)
        self._whatsapp_senders = list(whatsapp_senders)
        # sends the workflow steps that are due (service/workflows.py), before each claim
        self._steps = steps
        # app id -> its own provider order, for apps that set one (the rest use all senders)
        self._routes = routes
        self._sealer = sealer
        self._clock = clock
        self._observer = observer
        # claims, routes and records run on the one executor; a batch's results and their
        # webhooks commit together
        self._executor = executor
        self._batch_size = batch_size
        self._batches_in_flight = batches_in_flight
        self._poll_seconds = poll_seconds
        self._retry_base_seconds = retry_base_seconds
        self._lease_seconds = lease_seconds
        self._breakers = breakers or {}
        self._on_sweep = on_sweep  # periodic upkeep beside the queue's (receipts that came early)
        self._on_finished = on_finished  # as a batch is recorded (status webhooks)
        self._companions = companions  # loops that live as long as this one (webhook sender)
        self._on_unopenable = on_unopenable  # a metric
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Called from any thread after a message is committed: deliver now, not at next poll."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        log.info(
            "delivery_started",
            providers=[sender.name for sender in self._senders],
            call_providers=[sender.name for sender in self._call_senders],
            whatsapp_providers=[sender.name for sender in self._whatsapp_senders],
        )
        companions: list[asyncio.Future[None]] = [
            asyncio.ensure_future(companion(stop)) for companion in self._companions
        ]
        # several batches in flight: one is sent while another is claimed or recorded, so the
        # providers' links do not idle through each batch's two transactions
        lanes = [
            asyncio.ensure_future(self._deliver_until(stop)) for _ in range(self._batches_in_flight)
        ]
        await self._upkeep_until(stop)
        await asyncio.gather(*lanes)
        closing: list[SmsSender | CallSender | WhatsAppSender] = [
            *self._senders,
            *self._call_senders,
            *self._whatsapp_senders,
        ]
        for sender in {id(sender): sender for sender in closing}.values():
            await sender.close()
        await asyncio.gather(*companions, return_exceptions=True)

    async def _deliver_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                delivered = await self.deliver_due()
            except Exception:
                # a database hiccup must not end delivery; the lease keeps claims safe
                log.exception("delivery_loop_error")
                delivered = 0
            if delivered < self._batch_size:
                await self._sleep_until_woken(stop)

    async def _upkeep_until(self, stop: asyncio.Event) -> None:
        async def upkeep() -> None:
            if self._on_sweep is not None:
                on_sweep = self._on_sweep
                await self._executor.run(lambda: on_sweep(self._clock.now()))

        await every(UPKEEP_SECONDS, stop, upkeep, log, "delivery_upkeep_error")

    async def _sleep_until_woken(self, stop: asyncio.Event) -> None:
        assert self._wake is not None
        waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(
            waiters, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()
        self._wake.clear()

    async def deliver_due(self) -> int:
        """Send the workflow steps that are due, then deliver one batch of due messages,
        recording all results in one transaction; returns how many messages were claimed."""
        if self._steps is not None:
            await self._steps()
        batch = await self._executor.run(self._claim)
        if not batch:
            return 0
        routes_of = self._routes
        app_ids = {message.app_id for message in batch}
        routes = await self._executor.run(lambda: routes_of(app_ids)) if routes_of else {}
        results = await asyncio.gather(
            *(
                self._deliver(message, self._senders_for(routes.get(message.app_id)))
                for message in batch
            )
        )
        await self._executor.run(lambda: self._record(batch, results))
        for result in results:
            if result.status is not DeliveryStatus.QUEUED:
                self._observer.message_status(result.status)
        return len(batch)

    def _claim(self) -> list[QueuedMessage]:
        with self._executor.transaction() as tx:
            return self._queue.claim(tx, self._batch_size, self._clock.now(), self._lease_seconds)

    def _record(self, batch: Sequence[QueuedMessage], results: Sequence[DeliveryResult]) -> None:
        """The results and the status webhooks they cause, in one transaction: if the events
        cannot be written, the batch is not recorded either and its lease lets it run again."""
        with self._executor.transaction() as tx:
            undeliverable = self._queue.finish(tx, results, self._clock.now())
            if self._on_finished is not None:
                self._on_finished(tx, batch, results)
            for verification in undeliverable:
                self._observer.verification_status(tx, verification)

    def _senders_for(self, names: Sequence[str] | None) -> list[SmsSender]:
        if not names:
            return self._senders
        return [self._senders_by_name[name] for name in names if name in self._senders_by_name]

    async def _deliver(self, message: QueuedMessage, senders: list[SmsSender]) -> DeliveryResult:
        try:
            body = self._sealer.open(message.body_sealed, message.id)
        except ValueError:
            # sealed under a key this server does not hold (another node's, a retired one):
            # this message fails alone; the rest of its batch is sent and recorded
            log.error("message_unopenable", message_id=message.id)
            self._on_unopenable()
            return DeliveryResult(
                message.id,
                DeliveryStatus.FAILED,
                provider="none",
                error="the message text does not open with this server's secret keys",
            )
        attempts = self._attempts(message, ChannelMessage.unpack(message.channel, body), senders)
        if not attempts:
            # the app names only providers this server has not configured (any more)
            return DeliveryResult(
                message.id,
                DeliveryStatus.FAILED,
                provider="none",
                error="none of the app's sms_providers is configured on this server",
            )
        # breakers watch the SMS providers; a call's or WhatsApp provider of the same name is
        # another service of theirs
        breakers = self._breakers if message.channel is Channel.SMS else {}
        errors = []
        for name, send in attempts:
            breaker = breakers.get(name)
            if breaker is not None and not breaker.allows():
                errors.append(f"{name}: circuit open")
                continue
            try:
                receipt = await send()
            except TransientSendError as exc:
                if breaker is not None:
                    breaker.failed()
                errors.append(f"{name}: {exc}")
                continue
            except PermanentSendError as exc:
                if breaker is not None:
                    breaker.succeeded()  # the provider answered; the message was the problem
                log.warning("message_refused", message_id=message.id, provider=name, error=str(exc))
                return DeliveryResult(
                    message.id, DeliveryStatus.FAILED, provider=name, error=str(exc)
                )
            except Exception as exc:
                # a sender's own bug must not strand the batch; its class name, never its text
                log.error(
                    "sender_error", message_id=message.id, provider=name, error=type(exc).__name__
                )
                if breaker is not None:
                    breaker.failed()
                errors.append(f"{name}: unexpected {type(exc).__name__}")
                continue
            if breaker is not None:
                breaker.succeeded()
            log.info(
                "message_sent",
                message_id=message.id,
                provider=name,
                channel=message.channel.value,
                status=receipt.status.value,
            )
            return DeliveryResult(
                message.id,
                receipt.status,
                provider=name,
                provider_message_id=receipt.provider_message_id,
                keep_body=receipt.keep_body,
            )
        return self._retry_or_give_up(message, "; ".join(errors), attempts[-1][0])

    def _attempts(
        self, message: QueuedMessage, content: ChannelMessage, sms_senders: list[SmsSender]
    ) -> list[Attempt]:
        """The message's channel's providers in failover order, each with its send."""
        if message.channel is Channel.CALL:
            call = OutgoingCall(
                message_id=message.id,
                app_id=message.app_id,
                verification_id=message.verification_id,
                to=message.to,
                caller_id=message.sender,
                speech=content.body,
                language=content.language or "en-US",
            )
            return [(sender.name, partial(sender.call, call)) for sender in self._call_senders]
        if message.channel is Channel.WHATSAPP:
            assert content.code is not None, "a WhatsApp message carries its code"
            whatsapp = OutgoingWhatsApp(
                message_id=message.id,
                app_id=message.app_id,
                verification_id=message.verification_id,
                to=message.to,
                sender=message.sender,
                code=content.code,
                language=content.language or "en",
                body=content.body,
            )
            return [
                (sender.name, partial(sender.send_whatsapp, whatsapp))
                for sender in self._whatsapp_senders
            ]
        sms = OutgoingSms(
            message_id=message.id,
            app_id=message.app_id,
            verification_id=message.verification_id,
            to=message.to,
            sender=message.sender,
            body=content.body,
        )
        return [(sender.name, partial(sender.send, sms)) for sender in sms_senders]

    def _retry_or_give_up(self, message: QueuedMessage, error: str, last: str) -> DeliveryResult:
        if message.attempts >= MAX_DELIVERY_ATTEMPTS:
            log.warning("message_given_up", message_id=message.id, error=error)
            return DeliveryResult(message.id, DeliveryStatus.FAILED, provider=last, error=error)
        # exponential backoff with full jitter, so a provider outage is not hit in lockstep
        delay = random.uniform(0, min(300.0, self._retry_base_seconds * 2.0**message.attempts))
        log.info("message_retry", message_id=message.id, error=error, delay_seconds=delay)
        return DeliveryResult(
            message.id,
            DeliveryStatus.QUEUED,
            error=error,
            retry_at=self._clock.now() + timedelta(seconds=delay),
        )
