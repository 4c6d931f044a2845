"""Migration 0009: apps that held the old default template get the built-in texts (null),
and a text an operator chose stays; going down restores the old default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select
from support.postgres import PostgresDatabases

from otpgate.store.database import Database, open_database
from otpgate.store.migrate import alembic_config
from otpgate.store.tables import apps

OLD_DEFAULT = "Your verification code is {code}"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        opened = open_database(f"sqlite:///{tmp_path / 'migrate.db'}", pool_size=1)
        yield opened
        opened.dispose()
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    with databases.fresh(migrated=False) as url:
        opened = open_database(url, pool_size=1)
        yield opened
        opened.dispose()


def templates(database: Database) -> dict[str, object]:
    with database.read() as connection:
        rows = connection.execute(select(apps.c.name, apps.c.settings)).all()
    return {name: json.loads(settings).get("template") for name, settings in rows}


def test_the_old_default_template_becomes_the_built_in_texts(database: Database) -> None:
    config = alembic_config(database)
    command.upgrade(config, "0005")
    with database.transaction() as tx:
        for name, template in (("plain", OLD_DEFAULT), ("own", "Code: {code}")):
            tx.connection.execute(
                insert(apps).values(
                    id=f"app_{name}", name=name, settings=json.dumps({"template": template}),
                    webhook_secret="s", created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
    command.upgrade(config, "0009")
    assert templates(database) == {"plain": None, "own": "Code: {code}"}
    command.downgrade(config, "0005")
    assert templates(database) == {"plain": OLD_DEFAULT, "own": "Code: {code}"}
