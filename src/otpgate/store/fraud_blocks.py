"""Prefixes the SMS-pumping guard blocked, per app; listed and lifted by an admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row

from otpgate.service.ports import FraudBlock, Transaction
from otpgate.store.database import Database
from otpgate.store.tables import fraud_blocks
from otpgate.store.transaction import connection_of

b = fraud_blocks.c
_FIELDS = (
    b.id,
    b.app_id,
    b.prefix,
    b.country,
    b.recent_sends,
    b.baseline_per_hour,
    b.started,
    b.approved,
    b.created_at,
    b.expires_at,
    b.lifted_at,
)


def _block(row: Row[Any, *tuple[Any, ...]]) -> FraudBlock:
    return FraudBlock(**row._mapping)


class SqlFraudBlockStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def active(self, app_id: str, prefix: str, now: datetime) -> FraudBlock | None:
        with self._database.read() as connection:
            row = connection.execute(
                select(*_FIELDS)
                .where(b.app_id == app_id, b.prefix == prefix, b.expires_at > now)
                .order_by(b.created_at.desc(), b.id.desc())
                .limit(1)
            ).first()
        return None if row is None else _block(row)

    def insert(self, tx: Transaction, block: FraudBlock, now: datetime) -> FraudBlock:
        connection = connection_of(tx)
        # in the write transaction: of two processes judging the same surge, one blocks
        current = connection.execute(
            select(*_FIELDS).where(
                b.app_id == block.app_id,
                b.prefix == block.prefix,
                b.expires_at > now,
                b.lifted_at.is_(None),
            )
        ).first()
        if current is not None:
            return _block(current)
        connection.execute(insert(fraud_blocks).values(**block.__dict__))
        return block

    def list(self, app_id: str, now: datetime) -> list[FraudBlock]:
        with self._database.read() as connection:
            rows = connection.execute(
                select(*_FIELDS)
                .where(b.app_id == app_id, b.expires_at > now, b.lifted_at.is_(None))
                .order_by(b.created_at.desc(), b.id.desc())
            ).all()
        return [_block(row) for row in rows]

    def lift(self, tx: Transaction, app_id: str, block_id: str, now: datetime) -> FraudBlock | None:
        row = (
            connection_of(tx)
            .execute(
                update(fraud_blocks)
                .where(
                    b.id == block_id,
                    b.app_id == app_id,
                    b.expires_at > now,
                    b.lifted_at.is_(None),
                )
                .values(lifted_at=now)
                .returning(*_FIELDS)
            )
            .first()
        )
        return None if row is None else _block(row)
