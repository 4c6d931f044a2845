"""The engine factory: one SQLAlchemy engine per dialect, with its pragmas and pool."""

from __future__ import annotations

import os
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
            hide_parameters=True,  # an error never prints a number or a webhook body
        )
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}")


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    _private_database_file(make_url(url).database)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=4 * pool_size,
        connect_args={"check_same_thread": False},
        hide_parameters=True,  # an error never prints a number or a webhook body
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


def _private_database_file(path: str | None) -> None:
    """Create the database file readable by its owner only, before SQLite does under the
    umask; SQLite gives its -wal and -shm files the database file's mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        # files an earlier version made under the umask are narrowed too
        if os.path.exists(name) and os.stat(name).st_uid == os.geteuid():
            os.chmod(name, 0o600)
