"""blobs and member chunks in the database

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:56:37.260397
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_chunks",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", "seq"),
    )
    op.create_table(
        "member_chunks",
        sa.Column("user_package_id", sa.String(length=20), nullable=False),
        sa.Column("chunk_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_package_id"],
            ["user_packages.user_package_id"],
        ),
        sa.PrimaryKeyConstraint("user_package_id", "chunk_key"),
    )


def downgrade() -> None:
    op.drop_table("member_chunks")
    op.drop_table("blob_chunks")
