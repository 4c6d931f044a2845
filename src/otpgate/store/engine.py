"""Engines per dialect, and the connection discipline: who may write, and how."""

from __future__ import annotations

import asyncio
import contextvars
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# a group commit closes after this many writers even if more are queued, bounding its latency
GROUP_COMMIT_MAX_WRITERS = 64
POOL_TIMEOUT_SECONDS = 30
# pooled connections that calls from the event loop leave to the delivery worker and the other
# routes: with all of them taken by a queue of checks, the worker waited for seconds
POOL_CONNECTIONS_LEFT_FREE = 2
_WRITE_OPTION = "otpgate_write"

T = TypeVar("T")


class Database:
    """One engine; writes go through `write()`, reads through `read()`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._group = _GroupCommit(engine) if self.is_sqlite else None
        # PostgreSQL runs calls concurrently, a thread per pooled connection but a few
        self._threads = (
            None
            if self._group is not None
            else ThreadPoolExecutor(
                max(1, engine.pool.size() - POOL_CONNECTIONS_LEFT_FREE),  # type: ignore[attr-defined]
                thread_name_prefix="otpgate-db",
            )
        )
        self._writing = threading.local()

    async def run(self, call: Callable[[], T]) -> T:
        """Run a blocking call that reads and writes off the event loop. On SQLite it runs in
        the one writer thread, its writes group-committed with every call queued meanwhile,
        so no thread waits per request; on PostgreSQL, in a thread of its own."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request's log context goes with it
        if self._group is None:
            assert self._threads is not None
            return await loop.run_in_executor(self._threads, context.run, call)
        job = _Job(call, context, loop, loop.create_future())
        self._group.submit(job)
        result: T = await job.future
        return result

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
        batch = self._held_batch()
        if batch is not None:
            batch.after_commit.extend(committed)  # the writer thread's group commits later
            return
        for callback in committed:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call back once the write open on this thread (or the writer thread's group) is
        durable, never if it rolls back; at once when none is open."""
        waiting: list[Callable[[], None]] | None = getattr(self._writing, "after_commit", None)
        batch = self._held_batch()
        if waiting is None and batch is not None:
            waiting = batch.after_commit
        if waiting is None:
            callback()
        else:
            waiting.append(callback)

    def _held_batch(self) -> _Batch | None:
        return self._group.held_batch() if self._group is not None else None

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
        read sees what the write did so far; in the writer thread, its group's, so a call
        sees what the calls before it in the same group wrote."""
        joined: Connection | None = getattr(self._writing, "connection", None)
        batch = self._held_batch()
        if joined is None and batch is not None:
            joined = batch.connection
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
            self._group.stop()
        if self._threads is not None:
            self._threads.shutdown()
        self.engine.dispose()


@dataclass
class _Job:
    """A call handed to the writer thread, and where its outcome goes."""

    call: Callable[[], Any]
    context: contextvars.Context
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.context.run(self.call)
        except BaseException as error:  # delivered to the awaiting request, not raised here
            self.error = error


def _settle(jobs: list[_Job], failure: BaseException | None) -> None:
    """On the event loop: each job's outcome to its request (a cancelled one has left)."""
    for job in jobs:
        if job.future.done():
            continue
        error = failure or job.error
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(job.result)


class _Batch:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transaction = connection.begin()
        self.writers = 0
        self.committed = threading.Event()
        self.error: BaseException | None = None
        self.jobs: list[_Job] = []  # calls from event loops, answered once committed
        self.after_commit: list[Callable[[], None]] = []  # their writes' callbacks


def _answer(jobs: list[_Job], failure: BaseException | None) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, answered in by_loop.items():
        if loop.is_closed():
            continue  # its requests are gone with it
        # one wake-up of the loop per group, not one per call
        loop.call_soon_threadsafe(_settle, answered, failure)


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
        # calls from the event loop, run by one writer thread started on the first
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._holder: int | None = None  # the writer thread's id while it runs a group

    @property
    def queued(self) -> int:
        return self._queued

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._holder == threading.get_ident():
            # the writer thread, running a call inside the batch it holds
            assert self._batch is not None
            with self._savepoint(self._batch) as connection:
                yield connection
            return
        with self._queue_lock:
            self._queued += 1
        with self._lock:
            with self._queue_lock:
                self._queued -= 1
            batch = self._batch or self._open()
            batch.writers += 1
            try:
                with self._savepoint(batch) as connection:
                    yield connection
            finally:
                self._commit_unless_followed(batch)
        batch.committed.wait()
        if batch.error is not None:
            raise batch.error

    def held_batch(self) -> _Batch | None:
        """The open batch, if this thread is the writer thread running calls in it."""
        return self._batch if self._holder == threading.get_ident() else None

    def submit(self, job: _Job) -> None:
        with self._queue_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="otpgate-writer", daemon=True
                )
                self._thread.start()
            self._queued += 1
        self._jobs.put(job)

    def _serve(self) -> None:
        """The writer thread: runs the calls queued meanwhile as one group, commits once,
        then hands every outcome back to its event loop."""
        while (job := self._jobs.get()) is not None:
            jobs = [job]
            while len(jobs) < GROUP_COMMIT_MAX_WRITERS:
                try:
                    following = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._jobs.put(None)  # stop after this group
                    break
                jobs.append(following)
            self._run_group(jobs)

    def _run_group(self, jobs: list[_Job]) -> None:
        with self._lock:
            with self._queue_lock:
                self._queued -= len(jobs)
            try:
                batch = self._batch or self._open()
            except Exception as error:  # locked by another process past the busy timeout
                self.close()  # the next group begins on a fresh connection
                _answer(jobs, error)  # and the thread lives on for it
                return
            batch.writers += len(jobs)
            batch.jobs.extend(jobs)
            self._holder = threading.get_ident()
            try:
                for job in jobs:
                    job.run()
            finally:
                self._holder = None
                # no wait for the commit here: the writer behind may be the next job
                self._commit_unless_followed(batch)

    @contextmanager
    def _savepoint(self, batch: _Batch) -> Iterator[Connection]:
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

    def _commit_unless_followed(self, batch: _Batch) -> None:
        """The last writer of a group commits for all; one queued behind it keeps it open."""
        with self._queue_lock:
            last = self._queued == 0 or batch.writers >= GROUP_COMMIT_MAX_WRITERS
        if last:
            self._commit(batch)

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
        try:
            if batch.error is None:
                for callback in batch.after_commit:
                    callback()
        finally:
            # after the callbacks: a request sees what they started
            _answer(batch.jobs, batch.error)

    def stop(self) -> None:
        """End the writer thread after the calls already queued, then close."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        self.close()

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
                hide_parameters=True,  # an error never prints a number or a webhook body
            )
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
        writes = connection.get_execution_options().get(_WRITE_OPTION, False)
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
