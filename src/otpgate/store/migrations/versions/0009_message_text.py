"""message text: the verification's locale, each message's encoding and segments

Apps stored before this revision hold the old default template, which now means "the
built-in text for the locale" (null): it is cleared so they get their numbers' languages.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_DEFAULT_TEMPLATE = "Your verification code is {code}"
_apps = sa.table("apps", sa.column("id", sa.String), sa.column("settings", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=35), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("encoding", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
    _set_template(OLD_DEFAULT_TEMPLATE, None)


def downgrade() -> None:
    _set_template(None, OLD_DEFAULT_TEMPLATE)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("segments")
        batch_op.drop_column("encoding")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_column("locale")


def _set_template(old: str | None, new: str | None) -> None:
    connection = op.get_bind()
    for app_id, text in connection.execute(sa.select(_apps.c.id, _apps.c.settings)).all():
        settings = json.loads(text)
        if "template" in settings and settings["template"] == old:
            settings["template"] = new
            connection.execute(
                _apps.update().where(_apps.c.id == app_id).values(settings=json.dumps(settings))
            )
