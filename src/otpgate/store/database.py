"""One database: its engine, its transactions, its reads and the executor that runs them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from otpgate.service.ports import Transaction
from otpgate.store.engine import create_database_engine
from otpgate.store.executor import Executor
from otpgate.store.group_commit import GroupCommit
from otpgate.store.transaction import SqlTransaction, connection_of

T = TypeVar("T")

# free space below which SQLite's disk counts as full: a group commit's pages in the WAL, and
# the checkpoint that copies them into the database file, need about this much
STORAGE_RESERVE_BYTES = 1024 * 1024


class Database:
    """Writes happen in a `transaction()` that the caller hands to each store it uses; reads
    outside one take a connection from `read()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._group = GroupCommit(engine) if self.is_sqlite else None
        self.executor = Executor(self._group, engine.pool.size())  # type: ignore[attr-defined]

    async def run(self, call: Callable[[], T]) -> T:
        """Run a blocking call off the event loop (store/executor.py)."""
        return await self.executor.run(call)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """A transaction that is durable when the block ends (or, in SQLite's writer thread,
        when the call's group commits), rolled back if it raises; its `after_commit`
        callbacks run once it is durable."""
        if self._group is not None:
            with self._group.transaction() as tx:
                yield tx
            return
        with self.engine.connect() as connection, connection.begin():
            tx = SqlTransaction(connection, is_sqlite=False)
            yield tx
        for callback in tx.callbacks:
            callback()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read on, outside any transaction; in SQLite's writer thread, the
        open group's, so a call reads what the calls before it in the group wrote."""
        held = self._group.held_connection() if self._group is not None else None
        if held is not None:
            yield held
            return
        with self.engine.connect() as connection:
            yield connection

    def reading(self, tx: Transaction | None) -> AbstractContextManager[Connection]:
        """The connection to read on: the transaction's, when the read is part of one (it sees
        what the transaction wrote, and takes no second pooled connection), else `read()`."""
        return nullcontext(connection_of(tx)) if tx is not None else self.read()

    def storage_full(self) -> bool:
        """SQLite's disk has no room left for a write (PostgreSQL's disk is its own)."""
        path = self.engine.url.database
        if not self.is_sqlite or not path or path == ":memory:" or path.startswith("file:"):
            return False
        disk = os.statvfs(Path(path).parent)
        return disk.f_bavail * disk.f_frsize < STORAGE_RESERVE_BYTES

    @property
    def queued_writers(self) -> int:
        """Transactions waiting to join the open group commit (always 0 on PostgreSQL)."""
        return self._group.queued if self._group is not None else 0

    def insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT support."""
        return sqlite_insert(table) if self.is_sqlite else postgresql_insert(table)

    def postgresql_url(self) -> str:
        """The libpq URL of this database, for a connection outside the pool (LISTEN)."""
        url = self.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def dispose(self) -> None:
        if self._group is not None:
            self._group.stop()
        self.executor.shutdown()
        self.engine.dispose()


def open_database(url: str, *, pool_size: int = 10) -> Database:
    return Database(create_database_engine(url, pool_size=pool_size))
