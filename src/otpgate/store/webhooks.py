"""Status webhooks on SQL: an outbox of events, leased like messages, each attempt kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from otpgate.service.ports import DueWebhook, Transaction, WebhookAttempt, WebhookEvent
from otpgate.store.database import Database
from otpgate.store.tables import apps, webhook_attempts, webhook_events
from otpgate.store.transaction import connection_of

w = webhook_events.c
a = webhook_attempts.c


class SqlWebhookStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def enqueue(self, tx: Transaction, event: WebhookEvent) -> None:
        connection = connection_of(tx)
        connection.execute(
            insert(webhook_events).values(
                id=event.id,
                app_id=event.app_id,
                verification_id=event.verification_id,
                url=event.url,
                body=event.body,
                status="pending",
                attempts=0,
                next_attempt_at=event.created_at,
                created_at=event.created_at,
                updated_at=event.created_at,
            )
        )

    def claim(
        self, tx: Transaction, limit: int, now: datetime, lease_seconds: int
    ) -> list[DueWebhook]:
        due = (
            select(w.id)
            .where(w.status == "pending", w.next_attempt_at <= now)
            .order_by(w.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        connection = connection_of(tx)
        rows = connection.execute(
            update(webhook_events)
            .where(w.id.in_(due))
            .values(next_attempt_at=now + timedelta(seconds=lease_seconds), updated_at=now)
            .returning(w.id, w.app_id, w.url, w.body, w.attempts, w.created_at)
        ).all()
        secrets = dict(
            connection.execute(
                select(apps.c.id, apps.c.webhook_secret).where(
                    apps.c.id.in_({row.app_id for row in rows})
                )
            ).all()
        )
        return sorted(
            (
                DueWebhook(
                    id=row.id,
                    url=row.url,
                    body=row.body,
                    secret=secrets[row.app_id],
                    attempts=row.attempts,
                    created_at=row.created_at,
                )
                for row in rows
            ),
            key=lambda event: event.created_at,
        )

    def record(self, tx: Transaction, attempts: Sequence[WebhookAttempt], now: datetime) -> None:
        connection = connection_of(tx)
        for attempt in attempts:
            connection.execute(
                insert(webhook_attempts).values(
                    id=attempt.id,
                    event_id=attempt.event_id,
                    attempted_at=attempt.attempted_at,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
            changes: dict[str, Any] = {
                "attempts": w.attempts + 1,
                "last_error": attempt.error,
                "updated_at": now,
            }
            if attempt.delivered:
                changes["status"] = "delivered"
            elif attempt.retry_at is None:
                changes["status"] = "failed"
            else:
                changes["next_attempt_at"] = attempt.retry_at
            connection.execute(
                update(webhook_events).where(w.id == attempt.event_id).values(**changes)
            )

    def events_of(self, verification_id: str) -> list[dict[str, Any]]:
        """Events and their attempts, oldest first (for operators and tests)."""
        with self._database.read() as connection:
            events = connection.execute(
                select(w.id, w.body, w.status, w.attempts, w.last_error)
                .where(w.verification_id == verification_id)
                .order_by(w.created_at, w.id)
            ).all()
            tried = connection.execute(
                select(a.event_id, a.status_code, a.error)
                .where(a.event_id.in_([event.id for event in events]))
                .order_by(a.attempted_at, a.id)
            ).all()
        return [
            {
                "id": event.id,
                "body": event.body,
                "status": event.status,
                "attempts": event.attempts,
                "last_error": event.last_error,
                "tries": [
                    {"status_code": t.status_code, "error": t.error}
                    for t in tried
                    if t.event_id == event.id
                ],
            }
            for event in events
        ]

    def rotate_secret(self, tx: Transaction, app_id: str, secret: str, now: datetime) -> bool:
        connection = connection_of(tx)
        changed = connection.execute(
            update(apps).where(apps.c.id == app_id).values(webhook_secret=secret, updated_at=now)
        )
        return bool(changed.rowcount)
