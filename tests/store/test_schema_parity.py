"""The same migrations give the same schema on SQLite and PostgreSQL, and that schema is
what `store/tables.py` describes: no drift between the engines or between code and
migrations (`alembic check`, on both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from support.postgres import PostgresDatabases

from otpgate.store.database import Database, open_database
from otpgate.store.migrate import HEAD_REVISION, alembic_config, current_revision, upgrade
from otpgate.store.tables import metadata


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'schema.db'}", pool_size=1)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def postgresql_database(postgres_databases: PostgresDatabases) -> Iterator[Database]:
    # an empty database, so the migrations run here and not in the template
    with postgres_databases.fresh(migrated=False) as url:
        database = open_database(url, pool_size=1)
        upgrade(database)
        yield database
        database.dispose()


def _predicate(options: dict[str, Any]) -> str | None:
    """A partial index's WHERE, in one spelling (PostgreSQL adds brackets and casts)."""
    where = options.get("sqlite_where", options.get("postgresql_where"))
    if where is None:
        return None
    text = str(where).lower()
    text = re.sub(r"::[a-z ]+(\[\])?", "", text)  # 'pending'::character varying
    text = re.sub(r"[()\s]", "", text)
    return re.sub(r"=anyarray\[(.*?)\]", r"in\1", text)  # IN (...) comes back as = ANY


def describe(database: Database) -> dict[str, Any]:
    """Tables, columns (generic type, length, nullability), keys and indexes."""
    with database.read() as connection:
        found = inspect(connection)
        schema: dict[str, Any] = {}
        for table in sorted(found.get_table_names()):
            if table == "alembic_version":
                continue
            schema[table] = {
                "columns": {
                    column["name"]: (
                        type(column["type"].as_generic()).__name__,
                        getattr(column["type"], "length", None),
                        column["nullable"],
                    )
                    for column in found.get_columns(table)
                },
                "primary key": tuple(found.get_pk_constraint(table)["constrained_columns"]),
                "foreign keys": sorted(
                    (tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in found.get_foreign_keys(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in found.get_unique_constraints(table)
                ),
                "indexes": sorted(
                    (
                        index["name"],
                        tuple(index["column_names"]),
                        bool(index["unique"]),
                        _predicate(index.get("dialect_options", {})),
                    )
                    for index in found.get_indexes(table)
                    # PostgreSQL lists a unique constraint's own index too
                    if "duplicates_constraint" not in index
                ),
            }
    return schema


def test_both_engines_have_the_same_schema_after_the_migrations(
    sqlite_database: Database, postgresql_database: Database
) -> None:
    on_sqlite = describe(sqlite_database)
    on_postgresql = describe(postgresql_database)
    assert sorted(on_sqlite) == sorted(metadata.tables)
    for table in on_sqlite:
        assert on_sqlite[table] == on_postgresql[table], table


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_migrations_build_what_the_tables_module_describes(
    engine: str, request: pytest.FixtureRequest
) -> None:
    database: Database = request.getfixturevalue(f"{engine}_database")
    with database.read() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_schema_description_sees_a_missing_index(sqlite_database: Database) -> None:
    """The comparison is not blind: drop one index and the schemas differ."""
    before = describe(sqlite_database)
    with sqlite_database.transaction() as tx:
        tx.connection.exec_driver_sql("DROP INDEX ix_verifications_created_at")
    assert describe(sqlite_database)["verifications"] != before["verifications"]


def test_the_head_revision_constant_is_the_newest_migration(sqlite_database: Database) -> None:
    """`upgrade` skips Alembic on a schema at HEAD_REVISION; that must be the real head."""
    heads = ScriptDirectory.from_config(alembic_config(sqlite_database)).get_heads()
    assert heads == [HEAD_REVISION]
    assert current_revision(sqlite_database) == HEAD_REVISION


def test_a_new_database_has_no_revision_until_migrated(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'new.db'}", pool_size=1)
    try:
        assert current_revision(database) is None
        upgrade(database)
        assert current_revision(database) == HEAD_REVISION
    finally:
        database.dispose()
