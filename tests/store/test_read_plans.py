"""Every read route's statement is an index search, never a scan: its cost stays the same with
10^6 rows stored as with 10^3 (SQLite's query plans; PostgreSQL plans by its statistics)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from otpgate.domain.channels import Channel
from otpgate.service.ports import ListQuery
from otpgate.store.database import Database, open_database
from otpgate.store.messages import SqlDevOutbox
from otpgate.store.migrate import upgrade
from otpgate.store.receipts import SqlDeliveryLog
from otpgate.store.verifications import SqlVerificationStore

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'plans.db'}")
    upgrade(database)
    yield database
    database.dispose()


def plans_of(database: Database, read: Callable[[], Any]) -> list[str]:
    """The query plan of each statement `read` runs."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append((sql, params))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        read()
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert statements
    with database.read() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        return [
            row[-1]
            for sql, params in statements
            for row in driver.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        ]


READS: dict[str, Callable[[Database], Callable[[], Any]]] = {
    "outbox by number": lambda db: (
        lambda: SqlDevOutbox(db).read("app", "+447123123456", 1, list(Channel))
    ),
    "get": lambda db: lambda: SqlVerificationStore(db).get("app", "ver_x"),
    "list": lambda db: (
        lambda: SqlVerificationStore(db).list(
            "app", ListQuery(to=None, status=None, limit=20, before_id=None), NOW
        )
    ),
    "list by number": lambda db: (
        lambda: SqlVerificationStore(db).list(
            "app", ListQuery(to="+447123123456", status=None, limit=20, before_id="ver_z"), NOW
        )
    ),
    "list by status": lambda db: (
        lambda: SqlVerificationStore(db).list(
            "app", ListQuery(to=None, status="approved", limit=20, before_id=None), NOW
        )
    ),
    "pending list": lambda db: (
        lambda: SqlVerificationStore(db).list(
            "app", ListQuery(to=None, status="pending", limit=20, before_id=None), NOW
        )
    ),
    "messages of a verification": lambda db: lambda: SqlDeliveryLog(db).messages_of("app", "v"),
}


@pytest.mark.parametrize("route", READS)
def test_the_read_is_an_index_search(database: Database, route: str) -> None:
    plans = plans_of(database, READS[route](database))
    # a search by an index's leading columns; sorting the few rows found is fine, a scan is not
    assert any(plan.startswith("SEARCH") for plan in plans), plans
    assert not [plan for plan in plans if plan.startswith("SCAN")], plans


def test_the_check_sees_a_missing_index(database: Database) -> None:
    with database.transaction() as tx:
        tx.connection.exec_driver_sql("DROP INDEX ix_messages_to_number_created_at_id")
    plans = plans_of(database, READS["outbox by number"](database))
    assert [plan for plan in plans if plan.startswith("SCAN")], plans
