"""Alembic environment: migrations run on the connection otpgate hands in."""

from alembic import context

from otpgate.store.tables import metadata

# any constant shared by every node: the key of the lock that serialises their migrations
MIGRATION_LOCK_KEY = 0x6F747067  # "otpg"

database = context.config.attributes["database"]

with database.transaction() as tx:
    connection = tx.connection
    if not database.is_sqlite:
        # nodes started together migrate one after the other (DDL is transactional on
        # PostgreSQL), and the later ones find the schema at head; SQLite's BEGIN IMMEDIATE
        # already lets one writer in at a time
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=database.is_sqlite,  # SQLite alters tables by copying them
        compare_type=True,
    )
    context.run_migrations()
