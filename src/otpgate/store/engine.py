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
from sqlalchemy.exc import IntegrityError

SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_TIMEOUT_SECONDS = 30
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

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.connect() as connection:
            connection.execution_options(**{_WRITE_OPTION: True})
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT support."""
        return sqlite_insert(table) if self.is_sqlite else postgresql_insert(table)

    def postgresql_url(self) -> str:
        """The libpq URL of this database, for a connection outside the pool (LISTEN)."""
        url = self.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def dispose(self) -> None:
        self.engine.dispose()


def is_unique_violation(error: IntegrityError) -> bool:
    """A concurrent transaction committed the same key first (not a bug in the statement)."""
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return str(original).startswith("UNIQUE constraint failed")  # SQLite


def open_database(url: str, *, pool_size: int = 10) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(url, pool_size))
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # the pool size is the most connections a process opens: what an operator budgets
        # against PostgreSQL's max_connections, across every node
        return Database(
            create_engine(
                parsed,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=POOL_TIMEOUT_SECONDS,
                pool_pre_ping=True,
            )
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
