"""indexes that keep the read routes' cost flat as rows accumulate: the developer outbox by
number, newest first, and the verification list filtered by status

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_to_number_created_at_id", ["to_number", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verifications_app_id_status_id", ["app_id", "status", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_verifications_app_id_status_id")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_to_number_created_at_id")
