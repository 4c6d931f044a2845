"""Throw-away PostgreSQL databases for one test run: made from a migrated template, dropped
after, named by the run's process id so parallel runs on one server never meet."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from otpgate.store.database import open_database
from otpgate.store.migrate import upgrade

# the server every session's machine runs; OTPGATE_TEST_POSTGRES_URL names another
ADMIN_URL = os.environ.get("OTPGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = "otpgate_test_"
ENGINES = ("sqlite", "postgresql")  # the `database_url` fixture's parameters
_RUN_NAME = re.compile(rf"^{PREFIX}(\d+)_[0-9a-f]+(_\w+)?$")


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


def unreachable_reason() -> str | None:
    """None when the server answers, else why not."""
    try:
        with _connect() as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {ADMIN_URL} is unreachable: {exc}".strip()
    return None


def url_of(name: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


class PostgresDatabases:
    """Databases of this run: a template migrated once, then a copy per test. A copy a test
    is done with is emptied (its connections ended, its rows deleted) and given to the
    next test: cheaper than a new one, and just as empty."""

    def __init__(self) -> None:
        self.run = f"{PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        self.template = f"{self.run}_template"
        self._count = 0
        self._copies: set[str] = set()  # every migrated copy, in use or not
        self._emptied: list[str] = []  # copies ready for the next test

    def start(self) -> PostgresDatabases:
        _drop_leftovers_of_dead_runs()
        self._create(self.template)
        database = open_database(url_of(self.template), pool_size=1)
        try:
            upgrade(database)
        finally:
            database.dispose()
        return self

    def stop(self) -> None:
        for name in [*self._copies, self.template]:
            _drop(name)

    @contextmanager
    def fresh(self, *, migrated: bool = True) -> Iterator[str]:
        """An empty database for one test: migrated, or with no tables at all."""
        if not migrated:
            name = self._new(template=None)
            try:
                yield url_of(name)
            finally:
                _drop(name)
            return
        if self._emptied:
            name = self._emptied.pop()
        else:
            name = self._new(template=self.template)
            self._copies.add(name)
        try:
            yield url_of(name)
        finally:
            try:
                _empty(name)
            except psycopg.Error:
                # a test left it in a state we cannot clean: never reuse it
                self._copies.discard(name)
                _drop(name)
            else:
                self._emptied.append(name)

    def _new(self, template: str | None) -> str:
        self._count += 1
        name = f"{self.run}_{self._count}"
        self._create(name, template=template)
        return name

    def _create(self, name: str, template: str | None = None) -> None:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with _connect() as connection:
            connection.execute(statement)


def _empty(name: str) -> None:
    """End every session on `name` (a server process a test left behind) and empty its
    tables, keeping the schema."""
    with _connect() as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    with psycopg.connect(url_of(name), autocommit=True, connect_timeout=5) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables"
                " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        # DELETE, not TRUNCATE: a few rows go faster than new files for every table; with
        # foreign key triggers off (replica role) the order does not matter
        with connection.transaction():
            connection.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))


def _drop(name: str) -> None:
    with _connect() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _drop_leftovers_of_dead_runs() -> None:
    """A run that was killed could not drop its databases; the next run does."""
    with _connect() as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)
            )
        ]
    for name in names:
        found = _RUN_NAME.match(name)
        if found and not _alive(int(found.group(1))):
            _drop(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
