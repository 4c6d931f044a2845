"""`otpgate migrate` on PostgreSQL: the same migrations as on SQLite, safe to run from
several nodes at once (they take turns), and a no-op once at head."""

from __future__ import annotations

import psycopg
from alembic.script import ScriptDirectory
from cli.conftest import OtpgateCommand
from support.numbers import UK_MOBILE
from support.outbox import code_in
from support.postgres import PostgresDatabases

from otpgate.store.migrate import MIGRATIONS


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_migrate_from_three_nodes_at_once_leaves_one_schema_at_head(
    otpgate_command: OtpgateCommand, postgres_databases: PostgresDatabases
) -> None:
    with postgres_databases.fresh(migrated=False) as url:
        otpgate_command.env["OTPGATE_DATABASE_URL"] = url
        ran = otpgate_command.together([("migrate", "--json")] * 3)
        assert [r.json() for r in ran] == [{"migrated": True}] * 3
        again = otpgate_command("migrate", "--json")
        assert again.json() == {"migrated": True}
        with psycopg.connect(url) as connection:
            versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            tables = connection.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
        assert versions == [(head_revision(),)]
        assert tables is not None and tables[0] >= 10


def test_send_and_check_commands_work_on_postgresql(
    otpgate_command: OtpgateCommand, postgres_databases: PostgresDatabases
) -> None:
    with postgres_databases.fresh() as url:
        otpgate_command.env["OTPGATE_DATABASE_URL"] = url
        assert otpgate_command("apps", "create", "default", "--json").status == 0
        sent = otpgate_command("send", UK_MOBILE, "--json").json()
        outbox = otpgate_command("outbox", "--json").json_lines()
        code = code_in(outbox[-1]["body"])
        checked = otpgate_command("check", sent["id"], code, "--json")
        assert checked.json()["status"] == "approved"
