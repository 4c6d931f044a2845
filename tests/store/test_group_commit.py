"""SQLite writers that queue meanwhile share one commit; each still sees its own outcome."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, insert, select
from sqlalchemy.exc import OperationalError

from otpgate.store.database import Database, open_database

rows = Table("rows", MetaData(), Column("n", Integer, primary_key=True))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'group.db'}")
    with database.transaction() as tx:
        rows.create(tx.connection)
    yield database
    database.dispose()


def count_commits(database: Database) -> list[int]:
    commits = [0]
    event.listen(database.engine, "commit", lambda _c: commits.__setitem__(0, commits[0] + 1))
    return commits


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def stored(database: Database) -> set[int]:
    with database.read() as connection:
        return set(connection.scalars(select(rows.c.n)))


def test_writers_queued_behind_an_open_transaction_share_its_commit(database: Database) -> None:
    commits = count_commits(database)
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with database.transaction() as tx:
            tx.connection.execute(insert(rows).values(n=0))
            inside.set()
            release.wait()

    def writer(n: int) -> None:
        try:
            with database.transaction() as tx:
                tx.connection.execute(insert(rows).values(n=n))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    inside.wait()
    threads += [threading.Thread(target=writer, args=(n,)) for n in range(1, 6)]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: database.queued_writers == 5)
    release.set()
    for thread in threads:
        thread.join()

    assert errors == []
    assert stored(database) == {0, 1, 2, 3, 4, 5}
    assert commits[0] == 1


def test_a_failing_writer_loses_only_its_own_changes(database: Database) -> None:
    inside, release = threading.Event(), threading.Event()
    outcomes: dict[int, str] = {}

    def first() -> None:
        with database.transaction() as tx:
            tx.connection.execute(insert(rows).values(n=0))
            inside.set()
            release.wait()
        outcomes[0] = "ok"

    def writer(n: int) -> None:
        try:
            with database.transaction() as tx:
                tx.connection.execute(insert(rows).values(n=n))
                if n == 2:
                    raise LookupError("refused")
            outcomes[n] = "ok"
        except LookupError:
            outcomes[n] = "raised"

    threads = [threading.Thread(target=first)]
    threads[0].start()
    inside.wait()
    threads += [threading.Thread(target=writer, args=(n,)) for n in (1, 2, 3)]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: database.queued_writers == 3)
    release.set()
    for thread in threads:
        thread.join()

    assert outcomes == {0: "ok", 1: "ok", 2: "raised", 3: "ok"}
    assert stored(database) == {0, 1, 3}


def test_a_lone_writer_commits_at_once(database: Database) -> None:
    with database.transaction() as tx:
        tx.connection.execute(insert(rows).values(n=7))
    assert stored(database) == {7}


def insert_row(database: Database, n: int, fail: bool = False) -> int:
    with database.transaction() as tx:
        tx.connection.execute(insert(rows).values(n=n))
        if fail:
            raise LookupError(f"refused {n}")
    return n


def test_calls_from_the_event_loop_run_in_one_thread_and_share_commits(
    database: Database,
) -> None:
    commits = count_commits(database)
    threads: set[str] = set()

    def call(n: int) -> int:
        threads.add(threading.current_thread().name)
        return insert_row(database, n)

    async def main() -> list[int]:
        return await asyncio.gather(*(database.run(functools.partial(call, n)) for n in range(200)))

    assert asyncio.run(main()) == list(range(200))
    assert stored(database) == set(range(200))
    assert threads == {"otpgate-writer"}
    # the calls queued while a group ran joined the next group: far fewer commits than calls
    assert 1 <= commits[0] < 100, commits


def test_a_failing_call_raises_to_its_caller_alone_and_keeps_nothing(database: Database) -> None:
    async def main() -> list[int | BaseException]:
        calls = [
            database.run(functools.partial(insert_row, database, n, fail=n % 3 == 0))
            for n in range(1, 10)
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert [str(o) if isinstance(o, LookupError) else o for o in outcomes] == [
        1, 2, "refused 3", 4, 5, "refused 6", 7, 8, "refused 9",
    ]  # fmt: skip
    assert stored(database) == {1, 2, 4, 5, 7, 8}


def test_a_call_reads_what_the_calls_before_it_in_its_group_wrote(database: Database) -> None:
    def insert_then_count(n: int) -> int:
        insert_row(database, n)
        with database.read() as connection:
            return len(connection.execute(select(rows.c.n)).all())

    async def main() -> list[int]:
        return await asyncio.gather(
            *(database.run(functools.partial(insert_then_count, n)) for n in range(50))
        )

    # run one after the other, each sees every row written before it, committed or not
    assert asyncio.run(main()) == list(range(1, 51))


def test_a_blocking_writer_and_the_writer_thread_take_turns(database: Database) -> None:
    """A write from another thread (the delivery worker's) and the loop's calls interleave
    without deadlock, and every one of them is committed."""
    done = threading.Event()

    def worker() -> None:
        for n in range(1000, 1100):
            insert_row(database, n)
        done.set()

    async def main() -> None:
        thread = threading.Thread(target=worker)
        thread.start()
        await asyncio.gather(
            *(database.run(functools.partial(insert_row, database, n)) for n in range(100))
        )
        thread.join()

    asyncio.run(main())
    assert done.is_set()
    assert stored(database) == set(range(100)) | set(range(1000, 1100))


def test_a_group_that_cannot_begin_fails_its_calls_and_the_writer_thread_goes_on(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = database._group
    assert group is not None
    opened = group._open

    def locked_elsewhere() -> Any:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    async def one(n: int) -> int:
        return await database.run(functools.partial(insert_row, database, n))

    monkeypatch.setattr(group, "_open", locked_elsewhere)
    with pytest.raises(OperationalError):
        asyncio.run(one(1))
    monkeypatch.setattr(group, "_open", opened)
    assert asyncio.run(one(2)) == 2
    assert stored(database) == {2}


def test_after_commit_in_the_writer_thread_waits_for_the_groups_commit(
    database: Database,
) -> None:
    """A call's write is durable only when its group commits: its callbacks run then, and a
    reader on another connection already sees the row."""
    seen: list[tuple[int, set[int]]] = []

    def insert_and_watch(n: int) -> int:
        with database.transaction() as tx:
            tx.connection.execute(insert(rows).values(n=n))
            tx.after_commit(lambda: seen.append((n, stored(database))))
        return n

    async def main() -> list[int]:
        return await asyncio.gather(
            *(database.run(functools.partial(insert_and_watch, n)) for n in range(20))
        )

    assert asyncio.run(main()) == list(range(20))
    assert sorted(n for n, _ in seen) == list(range(20))
    assert all(n in committed for n, committed in seen), seen


def test_a_transaction_opened_inside_another_on_the_same_thread_is_refused(
    database: Database,
) -> None:
    """No implicit joining: the open transaction is passed on, never found again."""
    with pytest.raises(RuntimeError, match="pass it on"):  # noqa: SIM117 (the inner one raises)
        with database.transaction():
            with database.transaction():
                pass

    async def nested() -> None:
        def call() -> None:
            with database.transaction(), database.transaction():
                pass

        await database.run(call)

    with pytest.raises(RuntimeError, match="pass it on"):
        asyncio.run(nested())
    assert asyncio.run(one_insert(database, 3)) == 3  # the writer thread goes on


async def one_insert(database: Database, n: int) -> int:
    return await database.run(functools.partial(insert_row, database, n))


def test_the_callbacks_of_a_transaction_that_rolls_back_never_run(database: Database) -> None:
    called: list[int] = []

    def insert_then_fail(n: int) -> None:
        with database.transaction() as tx:
            tx.connection.execute(insert(rows).values(n=n))
            tx.after_commit(lambda: called.append(n))
            raise LookupError("refused")

    async def main() -> list[object]:
        calls = [database.run(functools.partial(insert_then_fail, 1)), one_insert(database, 2)]
        return await asyncio.gather(*calls, return_exceptions=True)

    first, second = asyncio.run(main())
    assert isinstance(first, LookupError) and second == 2
    assert called == []
    assert stored(database) == {2}
