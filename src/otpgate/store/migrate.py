"""Run the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from otpgate.store.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# the newest revision in migrations/versions (a test holds the two together)
HEAD_REVISION = "0013"


def alembic_config(database: Database) -> Config:
    from alembic.config import Config  # see upgrade()

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database"] = database
    return config


def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision; safe to run on every start. A schema already
    there is left alone without loading Alembic: 10 MB that a serving process would keep."""
    if current_revision(database) == HEAD_REVISION:
        return
    from alembic import command

    command.upgrade(alembic_config(database), "head")


def current_revision(database: Database) -> str | None:
    """The schema's revision, None on a database never migrated."""
    try:
        with database.read() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
