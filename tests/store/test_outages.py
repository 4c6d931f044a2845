"""Which database errors are outages (answered 503) and which are bugs (left a 500), on real
errors from SQLite and PostgreSQL, wrapped by SQLAlchemy or straight from the driver."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from peers.otpgate import closed_port_url
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from otpgate.store.outages import DATABASE_UNAVAILABLE, STORAGE_FULL, outage_code


def raised(call: object) -> BaseException:
    with pytest.raises((SQLAlchemyError, sqlite3.Error)) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_a_full_sqlite_database_is_storage_full_wrapped_or_not(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'full.db'}")

    def fill() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA max_page_count = 2")
            connection.exec_driver_sql("CREATE TABLE t (x BLOB)")
            connection.exec_driver_sql("INSERT INTO t VALUES (zeroblob(100000))")

    driver = sqlite3.connect(tmp_path / "raw.db")
    driver.execute("PRAGMA max_page_count = 2")

    assert outage_code(raised(fill)) == STORAGE_FULL
    assert (
        outage_code(raised(lambda: driver.execute("CREATE TABLE t AS SELECT zeroblob(100000)")))
        == STORAGE_FULL
    )


def test_a_sqlite_database_locked_past_the_timeout_is_unavailable(tmp_path: Path) -> None:
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{tmp_path / 'locked.db'}", connect_args={"timeout": 0})

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))

    assert outage_code(raised(write)) == DATABASE_UNAVAILABLE


def test_a_postgresql_server_that_does_not_answer_is_unavailable() -> None:
    url = closed_port_url().replace("http://", "postgresql+psycopg://postgres@") + "/none"
    engine = create_engine(url, connect_args={"connect_timeout": 2})

    assert outage_code(raised(engine.connect)) == DATABASE_UNAVAILABLE


def test_a_wrong_statement_is_a_bug_not_an_outage(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bug.db'}")

    def query() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))

    assert outage_code(raised(query)) is None
    assert outage_code(ValueError("not a database error")) is None
