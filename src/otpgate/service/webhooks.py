"""Status webhooks: which changes make an event, what its body says, and the app's secret."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from otpgate.domain.errors import NotFound
from otpgate.domain.verification import DeliveryStatus, Verification
from otpgate.service.app_directory import AppDirectory
from otpgate.service.ids import new_id
from otpgate.service.ports import (
    AppStore,
    Clock,
    DeliveryResult,
    QueuedMessage,
    RandomSource,
    Transaction,
    Transactions,
    VerificationStore,
    WebhookEvent,
    WebhookStore,
)
from otpgate.service.presentation import timestamp, verification_document

EVENT_TYPE = "verification.updated"
_ON_THE_WAY = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


class WebhookEmitter:
    """Queues one event per change of a verification's status or delivery status, for apps
    with a `status_callback_url`; the dispatcher sends it. Called inside the transaction that
    made the change, the event commits with it: a crash cannot keep one and lose the other."""

    def __init__(
        self,
        store: WebhookStore,
        apps: AppDirectory,
        clock: Clock,
        random: RandomSource,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._apps = apps
        self._clock = clock
        self._random = random
        self.on_enqueued = on_enqueued

    def verification_changed(self, tx: Transaction, verification: Verification) -> None:
        now = self._clock.now()
        url = self._callback_url(tx, verification.app_id)
        if url is None:
            return
        event_id = new_id("evt", now, self._random)
        body = json.dumps(
            {
                "id": event_id,
                "type": EVENT_TYPE,
                "created_at": timestamp(now),
                "verification": verification_document(verification.seen_at(now)),
            },
            separators=(",", ":"),
        )
        self._store.enqueue(
            tx,
            WebhookEvent(
                id=event_id,
                app_id=verification.app_id,
                verification_id=verification.id,
                url=url,
                body=body,
                created_at=now,
            ),
        )
        tx.after_commit(self.on_enqueued)

    def app_event(
        self, tx: Transaction, app_id: str, event_type: str, fields: dict[str, Any]
    ) -> None:
        """An event about the app itself (a fraud block, a spend cap reached), signed and
        retried like the status webhooks, to the same `status_callback_url`."""
        now = self._clock.now()
        url = self._callback_url(tx, app_id)
        if url is None:
            return
        event_id = new_id("evt", now, self._random)
        body = json.dumps(
            {"id": event_id, "type": event_type, "created_at": timestamp(now), **fields},
            separators=(",", ":"),
        )
        self._store.enqueue(
            tx,
            WebhookEvent(
                id=event_id,
                app_id=app_id,
                verification_id=None,
                url=url,
                body=body,
                created_at=now,
            ),
        )
        tx.after_commit(self.on_enqueued)

    def _callback_url(self, tx: Transaction, app_id: str) -> str | None:
        # a batch of receipts names the same few apps: the directory reads each once a while
        app = self._apps.app(app_id, tx)
        return app.settings.status_callback_url if app is not None else None

    def batch_recorded(
        self,
        tx: Transaction,
        messages: Sequence[QueuedMessage],
        results: Sequence[DeliveryResult],
        verifications: VerificationStore,
    ) -> None:
        """In the transaction that records a batch: one event per verification whose delivery
        moved on (sent, or further when a receipt beat the record)."""
        by_id = {message.id: message for message in messages}
        for result in results:
            if result.status not in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
                continue  # failures end as `undeliverable`, which has its own event
            message = by_id[result.message_id]
            if self._callback_url(tx, message.app_id) is None:
                continue
            found = verifications.get(message.app_id, message.verification_id, tx)
            # a newer message of the same verification is still on its way: not this one's news
            if found is not None and found.delivery_status not in _ON_THE_WAY:
                self.verification_changed(tx, found)


class StatusMetrics(Protocol):
    def verification_status(self, verification: Verification) -> None: ...

    def check_outcome(self, outcome: str) -> None: ...

    def message_status(self, status: DeliveryStatus) -> None: ...


class WebhookObserver:
    """Hears what the metrics hear, and turns status changes into webhook events."""

    def __init__(self, metrics: StatusMetrics, emitter: WebhookEmitter) -> None:
        self._metrics = metrics
        self._emitter = emitter

    def verification_status(self, tx: Transaction, verification: Verification) -> None:
        self._metrics.verification_status(verification)
        self._emitter.verification_changed(tx, verification)

    def check_outcome(self, outcome: str) -> None:
        self._metrics.check_outcome(outcome)

    def message_status(self, status: DeliveryStatus) -> None:
        self._metrics.message_status(status)


class WebhookSecrets:
    def __init__(
        self,
        transactions: Transactions,
        store: WebhookStore,
        apps: AppStore,
        clock: Clock,
        random: RandomSource,
    ) -> None:
        self._transactions = transactions
        self._store = store
        self._apps = apps
        self._clock = clock
        self._random = random

    def secret(self, app_id: str) -> str:
        app = self._apps.get_app(app_id)
        if app is None:
            raise NotFound("no such app")
        return app.webhook_secret

    def rotate(self, app_id: str) -> str:
        """A new secret signs every webhook sent from now on (events already queued too)."""
        secret = base64.urlsafe_b64encode(self._random.token_bytes(32)).decode().rstrip("=")
        with self._transactions() as tx:
            rotated = self._store.rotate_secret(tx, app_id, secret, self._clock.now())
        if not rotated:
            raise NotFound("no such app")
        return secret
