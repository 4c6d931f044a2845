"""Sends queued status webhooks, signed, and retries them with backoff for 24 hours.

`Otpgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
app's webhook secret>`: a receiver needs only the secret to check it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
from datetime import timedelta

import httpx
import structlog

from otpgate.service.ids import new_id
from otpgate.service.ports import (
    Clock,
    DueWebhook,
    Executor,
    RandomSource,
    WebhookAttempt,
    WebhookStore,
)

SIGNATURE_HEADER = "Otpgate-Signature"
GIVE_UP_AFTER = timedelta(hours=24)
LEASE_SECONDS = 60
MAX_DELAY_SECONDS = 3600.0

log = structlog.get_logger("otpgate.webhooks")


def sign(secret: str, body: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class WebhookDispatcher:
    def __init__(
        self,
        store: WebhookStore,
        executor: Executor,
        clock: Clock,
        ids: RandomSource,
        *,
        retry_base_seconds: float = 1.0,
        poll_seconds: float = 0.5,
        timeout_seconds: float = 10.0,
        batch_size: int = 50,
    ) -> None:
        self._store = store
        self._executor = executor
        self._clock = clock
        self._ids = ids
        self._retry_base_seconds = retry_base_seconds
        self._poll_seconds = poll_seconds
        self._timeout_seconds = timeout_seconds
        self._batch_size = batch_size
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """From any thread, after an event is committed: send it now, not at the next poll."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        async with httpx.AsyncClient(timeout=self._timeout_seconds) as client:
            while not stop.is_set():
                try:
                    sent = await self.deliver_due(client)
                except Exception:
                    log.exception("webhook_loop_error")
                    sent = 0
                if sent < self._batch_size:
                    waits = {
                        asyncio.ensure_future(self._wake.wait()),
                        asyncio.ensure_future(stop.wait()),
                    }
                    _, pending = await asyncio.wait(
                        waits, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED
                    )
                    for waiter in pending:
                        waiter.cancel()
                    self._wake.clear()

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        due = await self._executor.run(self._claim)
        if not due:
            return 0
        attempts = await asyncio.gather(*(self._attempt(client, event) for event in due))
        await self._executor.run(lambda: self._record(attempts))
        return len(due)

    def _claim(self) -> list[DueWebhook]:
        with self._executor.transaction() as tx:
            return self._store.claim(tx, self._batch_size, self._clock.now(), LEASE_SECONDS)

    def _record(self, attempts: list[WebhookAttempt]) -> None:
        with self._executor.transaction() as tx:
            self._store.record(tx, attempts, self._clock.now())

    async def _attempt(self, client: httpx.AsyncClient, event: DueWebhook) -> WebhookAttempt:
        now = self._clock.now()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(event.secret, event.body, int(now.timestamp())),
            "User-Agent": "otpgate-webhooks",
        }
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            answer = await client.post(event.url, content=event.body.encode(), headers=headers)
            status_code = answer.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.TimeoutException as exc:
            error = f"timeout ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            error = f"connection failed ({type(exc).__name__})"
        duration_ms = int((time.perf_counter() - started) * 1000)
        delivered = error is None
        retry_at = None
        if not delivered:
            delay = random.uniform(
                0, min(MAX_DELAY_SECONDS, self._retry_base_seconds * 2.0**event.attempts)
            )
            if now + timedelta(seconds=delay) < event.created_at + GIVE_UP_AFTER:
                retry_at = now + timedelta(seconds=delay)
        log.info(
            "webhook_attempt",
            event_id=event.id,
            status_code=status_code,
            error=error,
            attempt=event.attempts + 1,
            given_up=not delivered and retry_at is None,
        )
        return WebhookAttempt(
            id=new_id("wha", now, self._ids),
            event_id=event.id,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            delivered=delivered,
            retry_at=retry_at,
        )
