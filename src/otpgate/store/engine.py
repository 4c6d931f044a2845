"""The engine factory: one SQLAlchemy engine per dialect, with its pragmas and pool."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from otpgate.store.group_commit import WRITE_OPTION

SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_TIMEOUT_SECONDS = 30


def create_database_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # the pool size is the most connections a process opens: what an operator budgets
        # against PostgreSQL's max_connections, across every node
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=POOL_TIMEOUT_SECONDS,
            pool_pre_ping=True,
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
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine
