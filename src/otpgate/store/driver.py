"""Hot statements run on the driver itself: compiled by SQLAlchemy once, executed without it.

Through SQLAlchemy Core each execution costs about as much CPU as SQLite takes to run the
statement (parameter processing, result set-up, events), and a start and a check run several.
A `DriverStatement` is the same Core statement compiled once per dialect; `execute` applies
the columns' own bind processors (UTC datetimes as the column stores them), hands the SQL to
the DBAPI cursor of the transaction's connection, and turns each returned value into what
Core would have returned (the returned columns' result processors: SQLite's text times back
to aware datetimes). The rows come back as tuples in the statement's column order.

The parameters must be exactly the statement's: a name it does not take, or one it takes and
was not given, is refused (Core would silently ignore the first). An INSERT without values
takes its columns from the first row it is given; every later row must name the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]


# a placeholder's value: from the parameter of that name, or a literal of the statement
_GIVEN = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # in the order the SQL takes them: (name, its bind processor, the literal or _GIVEN)
    binds: list[tuple[str, Processor | None, Any]]
    names: frozenset[str]  # the parameters the statement takes
    results: list[Processor | None] | None  # None: every value is returned as the driver reads it


class DriverStatement:
    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    @property
    def statement(self) -> ClauseElement:
        """The Core statement (for a comparison with Core's execution: bench/serving_stack.py)."""
        return self._statement

    def _for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            # an INSERT without values: the columns the row names (an unknown one is refused)
            compiled: Any = self._statement.compile(dialect=dialect, column_keys=list(params))
            names = list(compiled.positiontup or compiled.binds)
            binds = []
            for name in names:
                bind = compiled.binds[name]
                # the dialect's own type: SQLite's DATETIME writes the text the column reads
                processor = _bind_processor(bind.type, dialect)
                if bind.required:
                    binds.append((name, processor, _GIVEN))
                else:  # a literal in the statement (a status, `attempts + 1`): processed once
                    literal = bind.value if processor is None else processor(bind.value)
                    binds.append((name, None, literal))
            results = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in getattr(self._statement, "exported_columns", ())
            ]
            found = _Compiled(
                sql=compiled.string,
                binds=binds,
                names=frozenset(name for name, _, literal in binds if literal is _GIVEN),
                results=results if any(results) else None,
            )
            self._compiled[dialect.name] = found
        return found

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run with `params` on the connection's open transaction; the rows, as Core reads
        them. Refuses parameters other than the statement's own."""
        dialect = connection.dialect
        compiled = self._for(dialect, params)
        if compiled.names != params.keys():
            missing = sorted(compiled.names - params.keys())
            unknown = sorted(params.keys() - compiled.names)
            raise ValueError(f"parameters missing: {missing}, not the statement's: {unknown}")
        values = []
        for name, processor, literal in compiled.binds:
            if literal is _GIVEN:
                given = params[name]
                literal = given if processor is None else processor(given)
            values.append(literal)
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            if dialect.paramstyle == "qmark":
                cursor.execute(compiled.sql, values)
            else:  # pyformat (psycopg): by name
                cursor.execute(
                    compiled.sql,
                    {
                        name: value
                        for (name, _, _), value in zip(compiled.binds, values, strict=True)
                    },
                )
            rows = list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()
        if compiled.results is None:
            return rows
        processors = compiled.results
        return [
            tuple(
                value if processor is None or value is None else processor(value)
                for processor, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]


def _bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    processor: Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
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
