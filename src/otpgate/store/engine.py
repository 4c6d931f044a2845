"""Engines per dialect, and the connection discipline: who may write, and how."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITE_OPTION = "otpgate_write"


class Database:
    """One engine; writes go through `write()`, reads through `read()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time: queueing our own threads on a lock is cheaper and
        # fairer than letting them spin in SQLite's busy handler. Other processes still wait
        # there, with BEGIN IMMEDIATE so a transaction never fails half-way for a lock.
        self._write_lock: Any = threading.Lock() if self.is_sqlite else nullcontext()
        self._writing = threading.local()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; a write begun inside another on the same thread joins it (the
        rate-limit counters of a start commit or roll back with the start itself)."""
        joined: Connection | None = getattr(self._writing, "connection", None)
        if joined is not None:
            yield joined
            return
        with self._write_lock, self.engine.connect() as connection:
            connection.execution_options(**{_WRITE_OPTION: True})
            self._writing.connection = connection
            try:
                with connection.begin():
                    yield connection
            finally:
                self._writing.connection = None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT support."""
        return sqlite_insert(table) if self.is_sqlite else postgresql_insert(table)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, pool_size: int = 10) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(url, pool_size))
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return Database(
            create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        )
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}")


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=4 * pool_size,
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # we issue BEGIN ourselves (below); pysqlite's implicit transactions would defer it
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a 201 means the verification and its message survive a power cut
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        # writers take the write lock up front, so a transaction never fails half-way on a
        # lock it could not upgrade; readers stay deferred and never wait for a writer (WAL)
        writes = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine
