"""Engines per dialect, and the connection discipline: who may write, and how."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# a group commit closes after this many writers even if more are queued, bounding its latency
GROUP_COMMIT_MAX_WRITERS = 64
POOL_TIMEOUT_SECONDS = 30
_WRITE_OPTION = "otpgate_write"


class Database:
    """One engine; writes go through `write()`, reads through `read()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._group = _GroupCommit(engine) if self.is_sqlite else None
        self._writing = threading.local()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that is durable when the block ends, or rolled back if it raises. A
        write begun inside another on the same thread joins it (the rate-limit counters of a
        start commit or roll back with the start itself)."""
        joined: Connection | None = getattr(self._writing, "connection", None)
        if joined is not None:
            yield joined
            return
        committed: list[Callable[[], None]] = []
        with self._transaction() as connection:
            self._writing.connection = connection
            self._writing.after_commit = committed
            try:
                yield connection
            finally:
                self._writing.connection = None
                self._writing.after_commit = None
        for callback in committed:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call back once the write open on this thread is durable (never if it rolls back);
        at once when none is open."""
        waiting: list[Callable[[], None]] | None = getattr(self._writing, "after_commit", None)
        if waiting is None:
            callback()
        else:
            waiting.append(callback)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if self._group is not None:
            with self._group.write() as connection:
                yield connection
            return
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @property
    def queued_writers(self) -> int:
        """Writers waiting to join the open group commit (always 0 on PostgreSQL)."""
        return self._group.queued if self._group is not None else 0

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read on; inside a write on this thread, the write's own, so the
        read sees what the write did so far."""
        joined: Connection | None = getattr(self._writing, "connection", None)
        if joined is not None:
            yield joined
            return
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
        if self._group is not None:
            self._group.close()
        self.engine.dispose()


class _Batch:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transaction = connection.begin()
        self.writers = 0
        self.committed = threading.Event()
        self.error: BaseException | None = None


class _GroupCommit:
    """SQLite writes, group-committed: one fsync for every writer that queued meanwhile.

    SQLite has one writer at a time and, with synchronous=FULL, an fsync per commit, which
    caps commits per second whatever the CPU. Writers queue on a lock (cheaper and fairer than
    SQLite's busy handler); each runs its block in a savepoint of one shared transaction, and
    the writer that finds nobody queued behind it commits for all. A block's caller returns
    only after that commit, so durability is as with a commit each. Other processes wait in
    SQLite's busy handler, and BEGIN IMMEDIATE means a transaction never fails half-way on a
    lock it could not upgrade.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queued = 0
        self._batch: _Batch | None = None
        # one connection for every batch, used by one writer at a time under the lock
        self._connection: Connection | None = None

    @property
    def queued(self) -> int:
        return self._queued

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._queue_lock:
            self._queued += 1
        with self._lock:
            with self._queue_lock:
                self._queued -= 1
            batch = self._batch or self._open()
            batch.writers += 1
            # savepoints straight on the driver: through SQLAlchemy each costs as much as the
            # writer's own statement (begin_nested() even compiles a new one every time)
            driver = batch.connection.connection.driver_connection
            assert driver is not None
            driver.execute("SAVEPOINT writer")
            try:
                yield batch.connection
            except BaseException:
                driver.execute("ROLLBACK TO writer")
                raise
            finally:
                driver.execute("RELEASE writer")
                with self._queue_lock:
                    last = self._queued == 0 or batch.writers >= GROUP_COMMIT_MAX_WRITERS
                if last:
                    self._commit(batch)
        batch.committed.wait()
        if batch.error is not None:
            raise batch.error

    def _open(self) -> _Batch:
        if self._connection is None:
            self._connection = self._engine.connect()
            self._connection.execution_options(**{_WRITE_OPTION: True})
        self._batch = _Batch(self._connection)
        return self._batch

    def _commit(self, batch: _Batch) -> None:
        self._batch = None
        try:
            batch.transaction.commit()
        except BaseException as error:
            batch.error = error
            self.close()  # the next batch starts on a fresh connection
        finally:
            batch.committed.set()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()  # rolls back whatever it still holds
            self._connection = None


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
