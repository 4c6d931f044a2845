"""SQLite's group commit: one writer thread, and one fsync for every transaction queued meanwhile.

SQLite has one writer at a time and, with synchronous=FULL, an fsync per commit, which caps
commits per second whatever the CPU. So every call from the event loop (`submit`) runs in one
writer thread, which takes the calls queued meanwhile as a group: each transaction a call
opens is a savepoint of the group's one transaction, and the group commits once, after its
last call. A call's awaiting request is answered only after that commit, so a 201 still means
on disk. A thread other than the writer (the CLI, a test, Alembic) opens a transaction through
a lock instead and joins the open group the same way, returning once the group is committed.

A transaction's `after_commit` callbacks run after the group's commit, before its requests
are answered (a request then sees what they started). BEGIN IMMEDIATE takes the write lock up
front, so a group never fails half-way on a lock it could not upgrade; other processes wait in
SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from otpgate.store.transaction import SqlTransaction

# a group closes after this many transactions even if more are queued, bounding its latency
GROUP_COMMIT_MAX_WRITERS = 64
WRITE_OPTION = "otpgate_write"


@dataclass
class Job:
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


def _settle(jobs: list[Job], failure: BaseException | None) -> None:
    """On the event loop: each job's outcome to its request (a cancelled one has left)."""
    for job in jobs:
        if job.future.done():
            continue
        error = failure or job.error
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(job.result)


def _answer(jobs: list[Job], failure: BaseException | None) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, answered in by_loop.items():
        if loop.is_closed():
            continue  # its requests are gone with it
        # one wake-up of the loop per group, not one per call
        loop.call_soon_threadsafe(_settle, answered, failure)


class _Group:
    """The one open transaction that the queued writers share."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transaction = connection.begin()
        self.writers = 0
        self.committed = threading.Event()
        self.error: BaseException | None = None
        self.jobs: list[Job] = []  # calls from event loops, answered once committed
        self.after_commit: list[Callable[[], None]] = []  # their transactions' callbacks


class GroupCommit:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queued = 0
        self._group: _Group | None = None
        # one connection for every group, used by one writer at a time under the lock
        self._connection: Connection | None = None
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # the thread running calls in the open group (the writer thread), or holding the lock
        self._holder: int | None = None
        self._inside = False  # the holder has a transaction open in the group

    @property
    def queued(self) -> int:
        """Transactions waiting to join the open group."""
        return self._queued

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """A transaction in the open group: durable when the caller gets control back (from
        another thread) or when the call's request is answered (in the writer thread)."""
        if self._holder == threading.get_ident():
            # the writer thread, running a call in the group it holds
            assert self._group is not None
            with self._savepoint(self._group) as tx:
                yield tx
            return
        with self._queue_lock:
            self._queued += 1
        with self._lock:
            with self._queue_lock:
                self._queued -= 1
            group = self._group or self._open()
            group.writers += 1
            self._holder = threading.get_ident()
            try:
                with self._savepoint(group) as tx:
                    yield tx
            finally:
                self._holder = None
                self._commit_unless_followed(group)
        group.committed.wait()
        if group.error is not None:
            raise group.error

    def held_connection(self) -> Connection | None:
        """The open group's connection, if this thread is running a call in it: a read there
        sees what the group wrote so far (it is not committed yet)."""
        if self._holder == threading.get_ident() and self._group is not None:
            return self._group.connection
        return None

    def submit(self, job: Job) -> None:
        """Queue a call for the writer thread (started on the first call)."""
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

    def _run_group(self, jobs: list[Job]) -> None:
        with self._lock:
            with self._queue_lock:
                self._queued -= len(jobs)
            try:
                group = self._group or self._open()
            except Exception as error:  # locked by another process past the busy timeout
                self.close()  # the next group begins on a fresh connection
                _answer(jobs, error)  # and the thread lives on for it
                return
            group.writers += len(jobs)
            group.jobs.extend(jobs)
            self._holder = threading.get_ident()
            try:
                for job in jobs:
                    job.run()
            finally:
                self._holder = None
                # no wait for the commit here: the writer behind may be the next job
                self._commit_unless_followed(group)

    @contextmanager
    def _savepoint(self, group: _Group) -> Iterator[SqlTransaction]:
        # savepoints straight on the driver: through SQLAlchemy each costs as much as the
        # writer's own statement (begin_nested() even compiles a new one every time)
        driver = group.connection.connection.driver_connection
        assert driver is not None
        if self._inside:
            # a second transaction on this thread would commit with the first anyway, and on
            # PostgreSQL wait on its locks: the open one is passed on instead
            raise RuntimeError("a transaction is already open on this thread: pass it on")
        tx = SqlTransaction(group.connection, is_sqlite=True)
        self._inside = True
        driver.execute("SAVEPOINT writer")
        try:
            yield tx
        except BaseException:
            driver.execute("ROLLBACK TO writer")
            raise
        finally:
            self._inside = False
            driver.execute("RELEASE writer")
        group.after_commit.extend(tx.callbacks)

    def _commit_unless_followed(self, group: _Group) -> None:
        """The last writer of a group commits for all; one queued behind it keeps it open."""
        with self._queue_lock:
            last = self._queued == 0 or group.writers >= GROUP_COMMIT_MAX_WRITERS
        if last:
            self._commit(group)

    def _open(self) -> _Group:
        if self._connection is None:
            self._connection = self._engine.connect()
            self._connection.execution_options(**{WRITE_OPTION: True})
        self._group = _Group(self._connection)
        return self._group

    def _commit(self, group: _Group) -> None:
        self._group = None
        try:
            group.transaction.commit()
        except BaseException as error:
            group.error = error
            self.close()  # the next group starts on a fresh connection
        finally:
            group.committed.set()
        try:
            if group.error is None:
                for callback in group.after_commit:
                    callback()
        finally:
            # after the callbacks: a request sees what they started
            _answer(group.jobs, group.error)

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
