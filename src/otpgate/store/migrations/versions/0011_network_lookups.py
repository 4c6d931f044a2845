"""network lookups: the answers of the lookup provider, shared by every node

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_lookups",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("line_type", sa.String(length=24), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=True),
        sa.Column("carrier_name", sa.String(length=128), nullable=True),
        sa.Column("mobile_country_code", sa.String(length=8), nullable=True),
        sa.Column("mobile_network_code", sa.String(length=8), nullable=True),
        sa.Column("high_risk", sa.Boolean(), nullable=False),
        sa.Column("ported", sa.Boolean(), nullable=True),
        sa.Column("roaming", sa.Boolean(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_network_lookups")),
    )
    with op.batch_alter_table("network_lookups", schema=None) as batch_op:
        batch_op.create_index("ix_network_lookups_checked_at", ["checked_at"], unique=False)


def downgrade() -> None:
    op.drop_table("network_lookups")
