"""abuse protection: rate counters, fraud blocks, app-wide webhook events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_counters")),
    )
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.create_index("ix_rate_counters_expires_at", ["expires_at"], unique=False)
    op.create_table(
        "fraud_blocks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("recent_sends", sa.Integer(), nullable=False),
        sa.Column("baseline_per_hour", sa.Double(), nullable=False),
        sa.Column("started", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_fraud_blocks_app_id_apps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_blocks")),
    )
    with op.batch_alter_table("fraud_blocks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fraud_blocks_app_id_prefix_expires_at",
            ["app_id", "prefix", "expires_at"],
            unique=False,
        )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.alter_column("verification_id", existing_type=sa.String(length=40), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.alter_column("verification_id", existing_type=sa.String(length=40), nullable=False)
    op.drop_table("fraud_blocks")
    op.drop_table("rate_counters")
