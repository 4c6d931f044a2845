"""channels: each message's channel and delivery time, and the steps of a workflow

A workflow's steps are rows with a due time so that any node's delivery worker can send the
next one, once (docs/channels.md). A verification of one step has no rows: its one step is
the verification's own channel and delivery status.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), nullable=False, server_default="sms")
        )
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("workflow_steps", sa.Integer(), nullable=False, server_default="1")
        )
    op.create_table(
        "workflow_steps",
        sa.Column("verification_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_workflow_steps_verification_id_verifications"),
        ),
        sa.PrimaryKeyConstraint("verification_id", "position", name=op.f("pk_workflow_steps")),
    )
    op.create_index(
        "ix_workflow_steps_due",
        "workflow_steps",
        ["due_at"],
        unique=False,
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.create_index("ix_workflow_steps_message_id", "workflow_steps", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_workflow_steps_message_id", "workflow_steps")
    op.drop_index("ix_workflow_steps_due", "workflow_steps")
    op.drop_table("workflow_steps")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_column("workflow_steps")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("channel")
