"""Deletes verifications past the retention period, with their messages, workflow steps,
aliases and webhooks, a small batch per transaction so no lock is held for long."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select, tuple_

from otpgate.service.ports import Transaction
from otpgate.store.database import Database
from otpgate.store.tables import (
    early_receipts,
    idempotency_keys,
    messages,
    verification_aliases,
    verifications,
    webhook_attempts,
    webhook_events,
    workflow_steps,
)
from otpgate.store.transaction import connection_of

v = verifications.c
m = messages.c


def _lock_idle(connection: Connection, candidates: set[str]) -> list[str]:
    """Lock the candidates that no one else holds, and their messages, messages first (the
    order delivery and receipts lock them in), skipping anything locked: the job never
    waits for a row, so it can neither deadlock with delivery nor hold requests up. A
    verification with a message in use stays for the next sweep."""
    mine = connection.execute(
        select(m.id, m.verification_id)
        .where(m.verification_id.in_(candidates))
        .order_by(m.id)
        .with_for_update(skip_locked=True)
    ).all()
    every = connection.execute(
        select(m.id, m.verification_id).where(m.verification_id.in_(candidates))
    ).all()
    busy = {row.verification_id for row in set(every) - set(mine)}
    return list(
        connection.execute(
            select(v.id)
            .where(v.id.in_(candidates - busy))
            .order_by(v.id)
            .with_for_update(skip_locked=True)
        ).scalars()
    )


def _delete_with_dependents(connection: Connection, ids: list[str]) -> None:
    events = select(webhook_events.c.id).where(webhook_events.c.verification_id.in_(ids))
    connection.execute(delete(webhook_attempts).where(webhook_attempts.c.event_id.in_(events)))
    connection.execute(delete(webhook_events).where(webhook_events.c.verification_id.in_(ids)))
    connection.execute(
        delete(verification_aliases).where(verification_aliases.c.verification_id.in_(ids))
    )
    connection.execute(
        delete(workflow_steps).where(workflow_steps.c.verification_id.in_(ids))
    )
    connection.execute(delete(messages).where(m.verification_id.in_(ids)))
    connection.execute(delete(verifications).where(v.id.in_(ids)))


class SqlRetention:
    def __init__(self, database: Database) -> None:
        self._database = database

    def delete_verifications_before(
        self, tx: Transaction, cutoff: datetime, batch_size: int
    ) -> int:
        """One batch of the oldest verifications created before `cutoff` and what hangs off
        them; returns how many verifications went (fewer than `batch_size`: stop for now)."""
        oldest = select(v.id).where(v.created_at < cutoff).order_by(v.created_at).limit(batch_size)
        connection = connection_of(tx)
        candidates = set(connection.execute(oldest).scalars())
        if not candidates:
            return 0
        ids = _lock_idle(connection, candidates)
        if ids:
            _delete_with_dependents(connection, ids)
        return len(ids)

    def delete_records_before(self, tx: Transaction, cutoff: datetime, batch_size: int) -> int:
        """One batch of idempotency keys and unmatched early receipts older than `cutoff`."""
        k = idempotency_keys.c
        keys = (
            select(k.app_id, k.key)
            .where(k.created_at < cutoff)
            .order_by(k.created_at)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        receipts = (
            select(early_receipts.c.receipt_key)
            .where(early_receipts.c.received_at < cutoff)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        connection = connection_of(tx)
        found_keys = connection.execute(keys).all()
        if found_keys:
            connection.execute(
                delete(idempotency_keys).where(
                    tuple_(k.app_id, k.key).in_([tuple(row) for row in found_keys])
                )
            )
        found_receipts = list(connection.execute(receipts).scalars())
        if found_receipts:
            connection.execute(
                delete(early_receipts).where(early_receipts.c.receipt_key.in_(found_receipts))
            )
        return max(len(found_keys), len(found_receipts))
