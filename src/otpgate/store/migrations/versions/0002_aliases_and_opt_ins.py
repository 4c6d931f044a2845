"""aliases and opt-ins

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

    op.create_table(
        "opt_ins",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_opt_ins_app_id_apps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_ins")),
    )
    with op.batch_alter_table("opt_ins", schema=None) as batch_op:
        batch_op.create_index("ix_opt_ins_app_id_id", ["app_id", "id"], unique=False)
        batch_op.create_index(
            "uq_opt_ins_app_id_external_id_to_number_source",
            ["app_id", "external_id", "to_number", "source"],
            unique=True,
        )

    op.create_table(
        "verification_aliases",
        sa.Column("alias_hash", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("verification_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_verification_aliases_verification_id_verifications"),
        ),
        sa.PrimaryKeyConstraint("alias_hash", name=op.f("pk_verification_aliases")),
    )


def downgrade() -> None:

    op.drop_table("verification_aliases")
    with op.batch_alter_table("opt_ins", schema=None) as batch_op:
        batch_op.drop_index("uq_opt_ins_app_id_external_id_to_number_source")
        batch_op.drop_index("ix_opt_ins_app_id_id")

    op.drop_table("opt_ins")
