"""The message queue the delivery worker drains, and the developer outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row

from otpgate.domain.verification import DeliveryStatus, Status, Verification
from otpgate.service.ports import OutboxEntry, QueuedMessage
from otpgate.store.engine import Database
from otpgate.store.tables import dev_outbox, messages, verifications
from otpgate.store.verifications import VERIFICATION_FIELDS, verification_from_row

m = messages.c
v = verifications.c


class SqlMessageQueue:
    def __init__(self, database: Database) -> None:
        self._database = database

    def claim(self, limit: int, now: datetime, lease_seconds: int) -> list[QueuedMessage]:
        """Lease due messages to this worker; a lease that runs out frees them for another."""
        due = (
            select(m.id)
            .where(
                m.next_attempt_at <= now,
                (
                    (m.status == DeliveryStatus.QUEUED)
                    | ((m.status == DeliveryStatus.SENDING) & (m.lease_until <= now))
                ),
            )
            .order_by(m.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(messages)
            .where(m.id.in_(due))
            .values(
                status=DeliveryStatus.SENDING,
                attempts=m.attempts + 1,
                lease_until=now + timedelta(seconds=lease_seconds),
                updated_at=now,
            )
            .returning(
                m.id,
                m.app_id,
                m.verification_id,
                m.to_number,
                m.sender,
                m.body_sealed,
                m.attempts,
                m.created_at,
            )
        )
        with self._database.write() as connection:
            rows = connection.execute(statement).all()
            if rows:
                connection.execute(
                    update(verifications)
                    .where(v.last_message_id.in_([row.id for row in rows]))
                    .values(delivery_status=DeliveryStatus.SENDING)
                )
        return sorted((_queued(row) for row in rows), key=lambda message: message.created_at)

    def mark_done(
        self,
        message_id: str,
        status: DeliveryStatus,
        provider: str,
        provider_message_id: str | None,
        now: datetime,
    ) -> None:
        with self._database.write() as connection:
            connection.execute(
                update(messages)
                .where(m.id == message_id)
                .values(
                    status=status,
                    provider=provider,
                    provider_message_id=provider_message_id,
                    body_sealed=None,
                    lease_until=None,
                    sent_at=now,
                    last_error=None,
                    updated_at=now,
                )
            )
            connection.execute(
                update(verifications)
                .where(v.last_message_id == message_id)
                .values(delivery_status=status)
            )

    def mark_failed(
        self, message_id: str, provider: str, error: str, now: datetime
    ) -> Verification | None:
        with self._database.write() as connection:
            connection.execute(
                update(messages)
                .where(m.id == message_id)
                .values(
                    status=DeliveryStatus.FAILED,
                    provider=provider,
                    body_sealed=None,
                    lease_until=None,
                    last_error=error[:500],
                    updated_at=now,
                )
            )
            connection.execute(
                update(verifications)
                .where(v.last_message_id == message_id)
                .values(delivery_status=DeliveryStatus.FAILED)
            )
            row = connection.execute(
                update(verifications)
                .where(v.last_message_id == message_id, v.status == Status.PENDING)
                .values(status=Status.UNDELIVERABLE, code_sealed=None, updated_at=now)
                .returning(*VERIFICATION_FIELDS)
            ).first()
        return None if row is None else verification_from_row(row)

    def retry_later(self, message_id: str, error: str, at: datetime) -> None:
        with self._database.write() as connection:
            connection.execute(
                update(messages)
                .where(m.id == message_id)
                .values(
                    status=DeliveryStatus.QUEUED,
                    next_attempt_at=at,
                    lease_until=None,
                    last_error=error[:500],
                    updated_at=at,
                )
            )

    def erase_expired_codes(self, now: datetime) -> int:
        """Drop the sealed code of verifications past expiry; their status stays for a check
        to report (a vendor API answers the first check after expiry differently)."""
        with self._database.write() as connection:
            result = connection.execute(
                update(verifications)
                .where(v.code_sealed.is_not(None), v.expires_at <= now)
                .values(code_sealed=None)
            )
        return int(result.rowcount)


def _queued(row: Row[Any]) -> QueuedMessage:
    return QueuedMessage(
        id=row.id,
        app_id=row.app_id,
        verification_id=row.verification_id,
        to=row.to_number,
        sender=row.sender,
        body_sealed=row.body_sealed,
        attempts=row.attempts,
        created_at=row.created_at,
    )


class SqlDevOutbox:
    def __init__(self, database: Database) -> None:
        self._database = database

    def deposit(self, entry: OutboxEntry) -> None:
        # a message re-delivered after a lost lease lands once
        statement = (
            self._database.insert(dev_outbox)
            .values(
                message_id=entry.id,
                app_id=entry.app_id,
                verification_id=entry.verification_id,
                to_number=entry.to,
                sender=entry.sender,
                body_sealed=entry.body_sealed,
                created_at=entry.created_at,
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
        )
        with self._database.write() as connection:
            connection.execute(statement)

    def read(self, app_id: str | None, to: str | None, limit: int) -> list[OutboxEntry]:
        o = dev_outbox.c
        statement = (
            select(
                o.message_id,
                o.app_id,
                o.verification_id,
                o.to_number,
                o.sender,
                o.body_sealed,
                o.created_at,
            )
            .order_by(o.seq.desc())
            .limit(limit)
        )
        if app_id is not None:
            statement = statement.where(o.app_id == app_id)
        if to is not None:
            statement = statement.where(o.to_number == to)
        with self._database.read() as connection:
            return [
                OutboxEntry(
                    id=row.message_id,
                    app_id=row.app_id,
                    to=row.to_number,
                    sender=row.sender,
                    body_sealed=row.body_sealed,
                    verification_id=row.verification_id,
                    created_at=row.created_at,
                )
                for row in connection.execute(statement)
            ]
