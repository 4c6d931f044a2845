"""Hot statements run on the driver itself: compiled by SQLAlchemy once, executed without it.

Through SQLAlchemy Core each execution costs about as much CPU as SQLite takes to run the
statement (parameter processing, result set-up, events), and a start runs several of them.
A `DriverStatement` is the same Core statement compiled once per dialect; `execute` applies
the columns' own bind processors (UTC datetimes as the column stores them) and hands the SQL
to the DBAPI cursor of the transaction's connection. Only for statements whose results need
no type processing (counts, integers); the rest stay on Core (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


class DriverStatement:
    def __init__(self, statement: ClauseElement, column_keys: list[str] | None = None) -> None:
        self._statement = statement
        self._column_keys = column_keys  # an INSERT's columns, when not all the table's
        self._compiled: dict[str, tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled: Any = self._statement.compile(dialect=dialect, column_keys=self._column_keys)
            names = list(compiled.positiontup or compiled.binds)
            found = (
                compiled.string,
                # the dialect's own type: SQLite's DATETIME writes the text the column reads
                [(name, _bind_processor(compiled.binds[name].type, dialect)) for name in names],
            )
            self._compiled[dialect.name] = found
        return found

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run with `params` on the connection's open transaction; the rows, unprocessed."""
        dialect = connection.dialect
        sql, binds = self._for(dialect)
        values = [
            params[name] if processor is None else processor(params[name])
            for name, processor in binds
        ]
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            if dialect.paramstyle == "qmark":
                cursor.execute(sql, values)
            else:  # pyformat (psycopg): by name
                cursor.execute(
                    sql, {name: value for (name, _), value in zip(binds, values, strict=True)}
                )
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()


def _bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def is_unique_violation(error: Exception) -> bool:
    """The driver's own error for a key a concurrent transaction committed first."""
    if getattr(error, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return str(error).startswith("UNIQUE constraint failed")  # SQLite


def savepoint(connection: Connection, name: str) -> None:
    connection.connection.driver_connection.execute(f"SAVEPOINT {name}")  # type: ignore[union-attr]


def release(connection: Connection, name: str) -> None:
    connection.connection.driver_connection.execute(f"RELEASE {name}")  # type: ignore[union-attr]


def rollback_to(connection: Connection, name: str) -> None:
    driver = connection.connection.driver_connection
    driver.execute(f"ROLLBACK TO {name}")  # type: ignore[union-attr]
