"""fault rules shared by API processes; the request log names the rule that applied

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fault_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fault_id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.brand_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fault_id"),
    )
    op.create_index("ix_fault_rules_brand", "fault_rules", ["brand_id", "remaining", "id"])
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("fault_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("fault_id")
    op.drop_index("ix_fault_rules_brand", table_name="fault_rules")
    op.drop_table("fault_rules")
