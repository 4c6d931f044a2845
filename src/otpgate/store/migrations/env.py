"""Alembic environment: migrations run on the connection otpgate hands in."""

from alembic import context

from otpgate.store.tables import metadata

database = context.config.attributes["database"]

with database.write() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=database.is_sqlite,  # SQLite alters tables by copying them
        compare_type=True,
    )
    context.run_migrations()
