"""Opt-in records on SQL."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import select

from otpgate.service.ports import OptIn, Transaction
from otpgate.store.database import Database
from otpgate.store.tables import opt_ins
from otpgate.store.transaction import SqlTransaction, connection_of

o = opt_ins.c


class SqlOptInStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return self._database.transaction()

    def record(self, tx: Transaction, opt_in: OptIn) -> None:
        statement = (
            self._database.insert(opt_ins)
            .values(
                id=opt_in.id,
                app_id=opt_in.app_id,
                external_id=opt_in.external_id,
                to_number=opt_in.to,
                source=opt_in.source,
                verified_at=opt_in.verified_at,
            )
            .on_conflict_do_update(
                index_elements=["app_id", "external_id", "to_number", "source"],
                set_={"verified_at": opt_in.verified_at},
            )
        )
        connection_of(tx).execute(statement)

    def list(
        self,
        app_id: str,
        external_id: str | None,
        to: str | None,
        limit: int,
        before_id: str | None,
    ) -> list[OptIn]:
        statement = select(
            o.id, o.app_id, o.external_id, o.to_number, o.verified_at, o.source
        ).where(o.app_id == app_id)
        if external_id is not None:
            statement = statement.where(o.external_id == external_id)
        if to is not None:
            statement = statement.where(o.to_number == to)
        if before_id is not None:
            statement = statement.where(o.id < before_id)
        statement = statement.order_by(o.id.desc()).limit(limit)
        with self._database.read() as connection:
            return [
                OptIn(
                    id=row.id,
                    app_id=row.app_id,
                    external_id=row.external_id,
                    to=row.to_number,
                    verified_at=row.verified_at,
                    source=row.source,
                )
                for row in connection.execute(statement)
            ]
