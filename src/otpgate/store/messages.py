"""The message queue the delivery worker drains, and the developer outbox."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy.engine import Row

from otpgate.domain.channels import Channel
from otpgate.domain.gsm import Encoding
from otpgate.domain.verification import DeliveryStatus, Status, Verification
from otpgate.service.ports import DeliveryResult, OutboxEntry, QueuedMessage, Transaction
from otpgate.store.database import Database
from otpgate.store.receipts import apply_early_receipts, early_keys
from otpgate.store.tables import messages, verifications
from otpgate.store.transaction import connection_of
from otpgate.store.verifications import (
    VERIFICATION_FIELDS,
    lock_verifications_of,
    newest_message_in,
    verification_from_row,
)
from otpgate.store.workflows import hasten_next_steps

m = messages.c
v = verifications.c

# a message claimed this often never got a result recorded (a worker died on it each time)
MAX_CLAIMS = 12


class SqlMessageQueue:
    def __init__(self, database: Database) -> None:
        self._database = database

    def claim(
        self, tx: Transaction, limit: int, now: datetime, lease_seconds: int
    ) -> list[QueuedMessage]:
        """Lease due messages to this worker; a lease that runs out frees them for another.
        Due messages that must not be sent any more end first, in a final state saying why."""
        is_due = and_(
            m.next_attempt_at <= now,
            (m.status == DeliveryStatus.QUEUED)
            | ((m.status == DeliveryStatus.SENDING) & (m.lease_until <= now)),
        )
        due = (
            select(m.id)
            .where(is_due)
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
                m.encoding,
                m.segments,
                m.channel,
            )
        )
        connection = connection_of(tx)
        # the messages are taken with SKIP LOCKED (no waiting), their verifications after
        # them in one ordered statement
        ended = _end_unsendable(connection, is_due, limit, now)
        rows = connection.execute(statement).all()
        claimed = [row.id for row in rows]
        lock_verifications_of(connection, ended + claimed)
        for ids, status in ((ended, DeliveryStatus.FAILED), (claimed, DeliveryStatus.SENDING)):
            if ids:
                connection.execute(
                    update(verifications)
                    .where(newest_message_in(ids))
                    .values(delivery_status=status)
                )
        return sorted((_queued(row) for row in rows), key=lambda message: message.created_at)

    def finish(
        self, tx: Transaction, results: Sequence[DeliveryResult], now: datetime
    ) -> list[Verification]:
        undeliverable: list[Verification] = []
        # one executemany per kind of change, not a statement built per message (building
        # one cost more than running it: docs/performance.md)
        kinds: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for result in results:
            changes = _changes(result, now)
            params = {f"new_{column}": value for column, value in changes.items()}
            kinds.setdefault(tuple(sorted(changes)), []).append(
                {"message_id": result.message_id, **params}
            )
        connection = connection_of(tx)
        for columns, params_list in kinds.items():
            connection.execute(_message_update(columns), params_list)
        # a retry (back to queued) changes no verification; the rest change their delivery status
        settled = [r for r in results if r.status is not DeliveryStatus.QUEUED]
        lock_verifications_of(connection, [r.message_id for r in settled])
        # a verification's delivery status is its newest message's
        for status in {r.status for r in settled}:
            ids = [r.message_id for r in settled if r.status is status]
            connection.execute(
                update(verifications).where(newest_message_in(ids)).values(delivery_status=status)
            )
        failed = [r.message_id for r in results if r.status is DeliveryStatus.FAILED]
        # a workflow's next step goes out at once instead; the verification stays pending
        failed = sorted(set(failed) - hasten_next_steps(connection, failed, now))
        if failed:
            # the newest message failed for good: the person cannot get the code
            rows = connection.execute(
                update(verifications)
                .where(newest_message_in(failed), v.status == Status.PENDING)
                .values(status=Status.UNDELIVERABLE, code_sealed=None, updated_at=now)
                .returning(*VERIFICATION_FIELDS)
            ).all()
            undeliverable = [verification_from_row(row) for row in rows]
        # receipts that beat this commit (a fast callback, an SMPP receipt before its resp)
        apply_early_receipts(connection, early_keys(results), now)
        return undeliverable

    def erase_expired_codes(self, tx: Transaction, now: datetime, limit: int) -> list[Verification]:
        """Drop the sealed code of up to `limit` verifications past expiry and return them;
        their status stays for a check to report (a vendor API answers the first check after
        expiry differently). A code goes once, so each verification is returned once."""
        # SKIP LOCKED: every node sweeps; rows another holds are left for the next sweep
        # rather than waited for (or deadlocked on)
        expired = (
            select(v.id)
            .where(v.code_sealed.is_not(None), v.expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        connection = connection_of(tx)
        rows = connection.execute(
            update(verifications)
            .where(v.id.in_(expired), v.code_sealed.is_not(None))
            .values(code_sealed=None)
            .returning(*VERIFICATION_FIELDS)
        ).all()
        return [verification_from_row(row) for row in rows]


def _end_unsendable(connection: Connection, is_due: Any, limit: int, now: datetime) -> list[str]:
    """Due messages that are not sent: their verification is no longer pending (approved,
    canceled, locked, expired: the code is of no use, or must not reach anyone now), or
    they were claimed MAX_CLAIMS times without a result (a worker stopped on each). Returns
    their ids; the caller records their verifications' delivery status."""
    rows = connection.execute(
        select(m.id, m.attempts, v.status, v.expires_at <= now)
        .join(verifications, v.id == m.verification_id)
        .where(
            is_due,
            (v.status != Status.PENDING) | (v.expires_at <= now) | (m.attempts >= MAX_CLAIMS),
        )
        .limit(limit)
        .with_for_update(skip_locked=True, of=messages)
    ).all()
    if not rows:
        return []
    connection.execute(
        _message_update(("body_sealed", "last_error", "lease_until", "status", "updated_at")),
        [
            {
                "message_id": row[0],
                "new_status": DeliveryStatus.FAILED,
                "new_last_error": _unsent_because(row[2], row[3], row[1]),
                "new_lease_until": None,
                "new_body_sealed": None,
                "new_updated_at": now,
            }
            for row in rows
        ],
    )
    return [row[0] for row in rows]


def _unsent_because(status: str, past_expiry: bool, attempts: int) -> str:
    if status != Status.PENDING:
        return f"not sent: the verification is {status}"
    if past_expiry:
        return "not sent: the verification expired"
    return f"not sent: claimed {attempts} times without a result"


@functools.cache
def _message_update(columns: tuple[str, ...]) -> Any:
    """UPDATE one message's `columns` from the parameters `new_<column>`."""
    return (
        update(messages)
        .where(m.id == bindparam("message_id"))
        .values({column: bindparam(f"new_{column}") for column in columns})
    )


def _changes(result: DeliveryResult, now: datetime) -> dict[str, Any]:
    if result.status is DeliveryStatus.QUEUED:
        queued: dict[str, Any] = {
            "status": DeliveryStatus.QUEUED,
            "next_attempt_at": result.retry_at,
            "lease_until": None,
            "last_error": _clip(result.error),
            "updated_at": now,
        }
        if result.attempts is not None:
            queued["attempts"] = result.attempts
        return queued
    changes: dict[str, Any] = {
        "status": result.status,
        "provider": result.provider,
        "provider_message_id": result.provider_message_id,
        "lease_until": None,
        "last_error": _clip(result.error),
        "updated_at": now,
    }
    if result.status is not DeliveryStatus.FAILED:
        changes["sent_at"] = now
    if result.status is DeliveryStatus.DELIVERED:
        changes["delivered_at"] = now
    if not result.keep_body:
        changes["body_sealed"] = None  # the text holds the code: gone once handed over
    return changes


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:500]


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
        encoding=None if row.encoding is None else Encoding(row.encoding),
        segments=row.segments,
        channel=Channel(row.channel),
    )


class SqlDevOutbox:
    """The developer outbox is the messages the `outbox` provider kept, newest first, and
    the ones still on their way to it: a message is readable once its start has committed,
    not once the worker has run (shared/api/native.md). Read by number through an index in
    that order, so it costs the same however many messages are stored."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def read(
        self, app_id: str | None, to: str | None, limit: int, channels: Sequence[Channel]
    ) -> list[OutboxEntry]:
        statement = (
            select(
                m.id,
                m.app_id,
                m.verification_id,
                m.to_number,
                m.sender,
                m.body_sealed,
                m.created_at,
                m.channel,
            )
            # a message of a channel whose provider is the outbox that no provider took yet
            # (provider still NULL) is on its way there
            .where(
                or_(m.provider == "outbox", m.provider.is_(None)),
                m.body_sealed.is_not(None),
                m.channel.in_([channel.value for channel in channels]),
            )
            .order_by(m.created_at.desc(), m.id.desc())
            .limit(limit)
        )
        if app_id is not None:
            statement = statement.where(m.app_id == app_id)
        if to is not None:
            statement = statement.where(m.to_number == to)
        with self._database.read() as connection:
            return [
                OutboxEntry(
                    id=row.id,
                    app_id=row.app_id,
                    to=row.to_number,
                    sender=row.sender,
                    body_sealed=row.body_sealed,
                    verification_id=row.verification_id,
                    created_at=row.created_at,
                    channel=Channel(row.channel),
                )
                for row in connection.execute(statement)
            ]
