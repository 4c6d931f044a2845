"""Delivery receipts on SQL: messages only move forward, and a receipt that comes early waits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from otpgate.domain.verification import DeliveryStatus, Verification
from otpgate.service.ports import DeliveryResult, MessageRecord, ReceiptUpdate
from otpgate.store.engine import Database
from otpgate.store.tables import early_receipts, messages, verifications
from otpgate.store.verifications import VERIFICATION_FIELDS, verification_from_row

m = messages.c
v = verifications.c
e = early_receipts.c

# a receipt only moves a message that a provider accepted, and never back
_MOVES_FROM = {
    DeliveryStatus.DELIVERED: (DeliveryStatus.SENT,),
    DeliveryStatus.UNDELIVERED: (DeliveryStatus.SENT,),
}
# an early receipt that never finds its message (another system's, a lost send) is dropped
EARLY_RECEIPT_DAYS = 3


def receipt_key(provider: str, provider_message_id: str) -> str:
    return f"{provider}:{provider_message_id}"[:180]


def message_key(message_id: str) -> str:
    return f"message:{message_id}"


class SqlDeliveryLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def record_receipt(self, receipt: ReceiptUpdate, now: datetime) -> Verification | None:
        changed = self.record_receipts([receipt], now)
        return changed[0] if changed else None

    def record_receipts(
        self, receipts: Sequence[ReceiptUpdate], now: datetime
    ) -> list[Verification]:
        """Several receipts in one transaction: an SMSC sends them faster than one commit
        (with its fsync) each could keep up with."""
        changed: list[Verification] = []
        with self._database.write() as connection:
            for receipt in receipts:
                moved = _record(connection, receipt, now)
                if moved is not None:
                    changed.append(moved)
        return changed

    def messages_of(self, app_id: str, verification_id: str) -> list[MessageRecord]:
        statement = (
            select(
                m.id,
                m.verification_id,
                m.status,
                m.provider,
                m.provider_message_id,
                m.attempts,
                m.last_error,
                m.created_at,
                m.sent_at,
                m.updated_at,
            )
            .where(m.app_id == app_id, m.verification_id == verification_id)
            .order_by(m.created_at, m.id)
        )
        with self._database.read() as connection:
            return [
                MessageRecord(
                    id=row.id,
                    verification_id=row.verification_id,
                    status=DeliveryStatus(row.status),
                    provider=row.provider,
                    provider_message_id=row.provider_message_id,
                    attempts=row.attempts,
                    last_error=row.last_error,
                    created_at=row.created_at,
                    sent_at=row.sent_at,
                    updated_at=row.updated_at,
                )
                for row in connection.execute(statement)
            ]

    def reconcile(self, now: datetime) -> list[Verification]:
        """Apply early receipts whose messages are now recorded as sent; drop stale ones.
        Covers a receipt that raced the commit of its message on a database without one
        writer at a time."""
        with self._database.write() as connection:
            keys = list(connection.execute(select(e.receipt_key)).scalars())
            changed = apply_early_receipts(connection, keys, now)
            connection.execute(
                delete(early_receipts).where(
                    e.received_at < now - timedelta(days=EARLY_RECEIPT_DAYS)
                )
            )
        return changed


def _record(connection: Connection, receipt: ReceiptUpdate, now: datetime) -> Verification | None:
    if receipt.status not in _MOVES_FROM:
        return None  # "sent" is what the worker records itself
    moved = _move(connection, _where(receipt), receipt.status, receipt.error, now)
    if moved is not None or _known(connection, receipt):
        return moved  # or already further along: a late or repeated receipt
    key = (
        message_key(receipt.message_id)
        if receipt.message_id is not None
        else receipt_key(receipt.provider, receipt.provider_message_id or "")
    )
    _keep_early(connection, key, receipt, now)
    return None


def apply_early_receipts(
    connection: Connection, keys: Iterable[str], now: datetime
) -> list[Verification]:
    """In the transaction that records messages as sent: the receipts that were waiting."""
    keys = list(keys)
    if not keys:
        return []
    waiting = connection.execute(
        select(e.receipt_key, e.status, e.error).where(e.receipt_key.in_(keys))
    ).all()
    changed: list[Verification] = []
    for row in waiting:
        kind, _, value = row.receipt_key.partition(":")
        where = (
            (m.id == value,)
            if kind == "message"
            else (m.provider == kind, m.provider_message_id == value)
        )
        exists = connection.execute(select(m.status).where(*where)).first()
        if exists is None or exists.status not in (DeliveryStatus.SENT, *_FINAL):
            continue  # its message is not recorded as sent yet
        moved = _move(connection, where, DeliveryStatus(row.status), row.error, now)
        if moved is not None:
            changed.append(moved)
        connection.execute(delete(early_receipts).where(e.receipt_key == row.receipt_key))
    return changed


def early_keys(results: Iterable[DeliveryResult]) -> list[str]:
    keys: list[str] = []
    for result in results:
        if result.status is not DeliveryStatus.SENT:
            continue
        keys.append(message_key(result.message_id))
        if result.provider is not None and result.provider_message_id is not None:
            keys.append(receipt_key(result.provider, result.provider_message_id))
    return keys


_FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


def _where(receipt: ReceiptUpdate) -> tuple[Any, ...]:
    if receipt.message_id is not None:
        return (m.id == receipt.message_id,)
    return (m.provider == receipt.provider, m.provider_message_id == receipt.provider_message_id)


def _move(
    connection: Connection,
    where: tuple[Any, ...],
    status: DeliveryStatus,
    error: str | None,
    now: datetime,
) -> Verification | None:
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if error is not None:
        values["last_error"] = error[:500]
    row = connection.execute(
        update(messages)
        .where(*where, m.status.in_(_MOVES_FROM[status]))
        .values(**values)
        .returning(m.id)
    ).first()
    if row is None:
        return None
    # a verification's delivery status is its newest message's
    changed = connection.execute(
        update(verifications)
        .where(v.last_message_id == row.id)
        .values(delivery_status=status)
        .returning(*VERIFICATION_FIELDS)
    ).first()
    return None if changed is None else verification_from_row(changed)


def _known(connection: Connection, receipt: ReceiptUpdate) -> bool:
    found = connection.execute(select(m.status).where(*_where(receipt))).first()
    return found is not None and found.status in (DeliveryStatus.SENT, *_FINAL)


def _keep_early(connection: Connection, key: str, receipt: ReceiptUpdate, now: datetime) -> None:
    row = {
        "receipt_key": key,
        "status": receipt.status.value,
        "error": None if receipt.error is None else receipt.error[:500],
        "received_at": now,
    }
    insert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    statement = insert(early_receipts).values(**row)
    connection.execute(  # the first final word stands, as it does for a recorded message
        statement.on_conflict_do_nothing(index_elements=["receipt_key"])
    )
