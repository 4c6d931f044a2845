"""Delivery receipts on SQL: messages only move forward, and a receipt that comes early waits."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from otpgate.domain.channels import Channel
from otpgate.domain.gsm import Encoding
from otpgate.domain.verification import DeliveryStatus, Verification
from otpgate.service.ports import DeliveryResult, MessageRecord, ReceiptUpdate, Transaction
from otpgate.store.database import Database
from otpgate.store.tables import early_receipts, messages, verifications
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
e = early_receipts.c

# a receipt only moves a message that a provider accepted (`sent`), and never back
# an early receipt that never finds its message (another system's, a lost send) is dropped
EARLY_RECEIPT_DAYS = 3
# an early receipt waits for a commit that raced it: reconciling looks back this far only,
# so its cost is what arrived lately, not what is stored
RECONCILE_WINDOW = timedelta(minutes=5)
# what a receipt may name: our message ids, and provider ids that fit the key column
_MESSAGE_ID = re.compile(r"^[a-z]{2,8}_[0-9a-v]{10,32}$")
_PROVIDER_MESSAGE_ID = re.compile(r"^[\x21-\x7e]{1,160}$")


def receipt_key(provider: str, provider_message_id: str) -> str:
    return f"{provider}:{provider_message_id}"[:180]


def message_key(message_id: str) -> str:
    return f"message:{message_id}"


class SqlDeliveryLog:
    def __init__(self, database: Database, max_early_receipts: int = 10_000) -> None:
        self._database = database
        # receipts for unknown ids (anyone may send them) wait in a bounded table
        self._max_early_receipts = max_early_receipts

    def record_receipt(
        self, tx: Transaction, receipt: ReceiptUpdate, now: datetime
    ) -> Verification | None:
        changed = self.record_receipts(tx, [receipt], now)
        return changed[0] if changed else None

    def record_receipts(
        self, tx: Transaction, receipts: Sequence[ReceiptUpdate], now: datetime
    ) -> list[Verification]:
        """Several receipts in one transaction, a few statements for all of them: an SMSC sends
        receipts faster than one commit (with its fsync) or one UPDATE each could keep up with."""
        heard = [
            (_key(receipt), receipt.status, _clip(receipt.error))
            for receipt in receipts
            # "sent" is what the worker records itself; an id that cannot be a message's
            # names none, and is not kept either
            if receipt.status in _FINAL_WORDS and _names_a_message(receipt)
        ]
        if not heard:
            return []
        connection = connection_of(tx)
        changed, settled = _apply(connection, heard, now)
        waiting = [item for item in heard if item[0] not in settled]
        if waiting and _early_receipts_below(connection, self._max_early_receipts):
            _keep_early(connection, waiting, now)
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
                m.encoding,
                m.segments,
                m.channel,
                m.delivered_at,
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
                    encoding=None if row.encoding is None else Encoding(row.encoding),
                    segments=row.segments,
                    channel=Channel(row.channel),
                    delivered_at=row.delivered_at,
                )
                for row in connection.execute(statement)
            ]

    def reconcile(self, tx: Transaction, now: datetime) -> list[Verification]:
        """Apply early receipts whose messages are now recorded as sent; drop stale ones.
        Covers a receipt that raced the commit of its message on a database without one
        writer at a time."""
        changed: list[Verification] = []
        connection = connection_of(tx)
        keys = list(
            connection.execute(
                select(e.receipt_key).where(e.received_at >= now - RECONCILE_WINDOW)
            ).scalars()
        )
        for start in range(0, len(keys), _CHUNK):
            changed += apply_early_receipts(connection, keys[start : start + _CHUNK], now)
        connection.execute(
            delete(early_receipts).where(e.received_at < now - timedelta(days=EARLY_RECEIPT_DAYS))
        )
        return changed


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
    if not waiting:
        return []
    changed, settled = _apply(
        connection,
        [(row.receipt_key, DeliveryStatus(row.status), row.error) for row in waiting],
        now,
    )
    if settled:
        connection.execute(delete(early_receipts).where(e.receipt_key.in_(settled)))
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
_FINAL_WORDS = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED)
_CHUNK = 500

# (receipt key, status, error)
Heard = tuple[str, DeliveryStatus, str | None]


def _names_a_message(receipt: ReceiptUpdate) -> bool:
    if receipt.message_id is not None:
        return _MESSAGE_ID.match(receipt.message_id) is not None
    return _PROVIDER_MESSAGE_ID.match(receipt.provider_message_id or "") is not None


def _early_receipts_below(connection: Connection, limit: int) -> bool:
    """Whether fewer than `limit` receipts wait; counts at most `limit` rows to say so."""
    held = select(e.receipt_key).limit(limit).subquery()
    return connection.execute(select(func.count()).select_from(held)).scalar_one() < limit


def _key(receipt: ReceiptUpdate) -> str:
    if receipt.message_id is not None:
        return message_key(receipt.message_id)
    return receipt_key(receipt.provider, receipt.provider_message_id or "")


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:500]


def _apply(
    connection: Connection, heard: Sequence[Heard], now: datetime
) -> tuple[list[Verification], set[str]]:
    """Move the `sent` messages these receipts name, one UPDATE per kind of receipt; returns
    the verifications whose delivery changed, and the keys that need not wait any longer
    (their message moved now, or had already reached a final state)."""
    groups: defaultdict[tuple[str, DeliveryStatus, str | None], set[str]] = defaultdict(set)
    for key, status, error in heard:
        kind, _, value = key.partition(":")
        groups[(kind, status, error)].add(value)
    moved: defaultdict[DeliveryStatus, list[str]] = defaultdict(list)
    settled: set[str] = set()
    for (kind, status, error), values in groups.items():
        by_id = kind == "message"
        named = m.id if by_id else m.provider_message_id
        where = [named.in_(values)] if by_id else [m.provider == kind, named.in_(values)]
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if status is DeliveryStatus.DELIVERED:
            changes["delivered_at"] = now
        if error is not None:
            changes["last_error"] = error
        rows = connection.execute(
            update(messages)
            .where(*where, m.status == DeliveryStatus.SENT)
            .values(**changes)
            .returning(m.id, named.label("named"))
        ).all()
        moved[status] += [row.id for row in rows]
        if status is DeliveryStatus.UNDELIVERED:
            # a workflow's next step goes out at once (store/workflows.py)
            hasten_next_steps(connection, [row.id for row in rows], now)
        done = {row.named for row in rows}
        rest = values - done
        if rest:
            rest_where = [named.in_(rest)] if by_id else [m.provider == kind, named.in_(rest)]
            done |= set(
                connection.execute(select(named).where(*rest_where, m.status.in_(_FINAL)))
                .scalars()
                .all()
            )
        settled |= {f"{kind}:{value}" for value in done}
    changed: list[Verification] = []
    lock_verifications_of(connection, [id_ for ids in moved.values() for id_ in ids])
    for status, ids in moved.items():
        # a verification's delivery status is its newest message's
        rows = connection.execute(
            update(verifications)
            .where(newest_message_in(ids))
            .values(delivery_status=status)
            .returning(*VERIFICATION_FIELDS)
        ).all()
        changed += [verification_from_row(row) for row in rows]
    return changed, settled


def _keep_early(connection: Connection, heard: Sequence[Heard], now: datetime) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for key, status, error in heard:
        # the first final word stands, as it does for a recorded message
        rows.setdefault(
            key, {"receipt_key": key, "status": status.value, "error": error, "received_at": now}
        )
    if not rows:
        return
    insert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    connection.execute(
        insert(early_receipts)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=["receipt_key"])
    )
