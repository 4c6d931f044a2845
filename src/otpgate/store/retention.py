"""Deletes verifications past the retention period, with their messages, aliases and
webhooks, a small batch per transaction so no lock is held for long."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_

from otpgate.store.engine import Database
from otpgate.store.tables import (
    early_receipts,
    idempotency_keys,
    messages,
    verification_aliases,
    verifications,
    webhook_attempts,
    webhook_events,
)

v = verifications.c


class SqlRetention:
    def __init__(self, database: Database) -> None:
        self._database = database

    def delete_verifications_before(self, cutoff: datetime, batch_size: int) -> int:
        """One batch of the oldest verifications created before `cutoff` and what hangs off
        them; returns how many verifications went (fewer than `batch_size`: none are left)."""
        # SKIP LOCKED: nodes purging at the same moment take different batches, and a row a
        # request holds is left for the next round instead of waited for
        oldest = (
            select(v.id)
            .where(v.created_at < cutoff)
            .order_by(v.created_at)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        with self._database.write() as connection:
            ids = list(connection.execute(oldest).scalars())
            if not ids:
                return 0
            events = select(webhook_events.c.id).where(webhook_events.c.verification_id.in_(ids))
            connection.execute(
                delete(webhook_attempts).where(webhook_attempts.c.event_id.in_(events))
            )
            connection.execute(
                delete(webhook_events).where(webhook_events.c.verification_id.in_(ids))
            )
            connection.execute(
                delete(verification_aliases).where(verification_aliases.c.verification_id.in_(ids))
            )
            connection.execute(delete(messages).where(messages.c.verification_id.in_(ids)))
            connection.execute(delete(verifications).where(v.id.in_(ids)))
        return len(ids)

    def delete_records_before(self, cutoff: datetime, batch_size: int) -> int:
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
        with self._database.write() as connection:
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
