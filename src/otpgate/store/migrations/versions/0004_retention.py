"""retention: indexes that let old verifications be found and deleted in small batches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the retention job walks verifications and idempotency keys by age, and deleting a
    # verification looks up its aliases (a foreign key without an index scans the table)
    op.create_index("ix_verifications_created_at", "verifications", ["created_at"])
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_index(
        "ix_verification_aliases_verification_id", "verification_aliases", ["verification_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_verification_aliases_verification_id", "verification_aliases")
    op.drop_index("ix_idempotency_keys_created_at", "idempotency_keys")
    op.drop_index("ix_verifications_created_at", "verifications")
