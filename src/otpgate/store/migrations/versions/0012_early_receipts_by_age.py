"""early receipts by age: reconciling reads only the recent ones, the sweep the stale ones

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_early_receipts_received_at", "early_receipts", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_early_receipts_received_at", "early_receipts")
