"""SQLite writers that queue meanwhile share one commit; each still sees its own outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, insert, select

from otpgate.store.engine import Database, open_database

rows = Table("rows", MetaData(), Column("n", Integer, primary_key=True))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'group.db'}")
    with database.write() as connection:
        rows.create(connection)
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
        with database.write() as connection:
            connection.execute(insert(rows).values(n=0))
            inside.set()
            release.wait()

    def writer(n: int) -> None:
        try:
            with database.write() as connection:
                connection.execute(insert(rows).values(n=n))
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
        with database.write() as connection:
            connection.execute(insert(rows).values(n=0))
            inside.set()
            release.wait()
        outcomes[0] = "ok"

    def writer(n: int) -> None:
        try:
            with database.write() as connection:
                connection.execute(insert(rows).values(n=n))
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
    with database.write() as connection:
        connection.execute(insert(rows).values(n=7))
    assert stored(database) == {7}
