"""delivery receipts: find messages by provider id, keep receipts that come early

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_provider_message_id", ["provider_message_id"], unique=False
        )
    op.create_table(
        "early_receipts",
        sa.Column("receipt_key", sa.String(length=180), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_key", name=op.f("pk_early_receipts")),
    )


def downgrade() -> None:
    op.drop_table("early_receipts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_provider_message_id")
