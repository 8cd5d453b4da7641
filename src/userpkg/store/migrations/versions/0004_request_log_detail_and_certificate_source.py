"""request log: sign information, unattributed entries, filters; certificates keep their source

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(
            sa.Column("attributed", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("sign_information", sa.Text(), nullable=True))
        batch.create_index("ix_request_log_attributed", ["attributed", "id"])
        batch.create_index("ix_request_log_request_id", ["request_id"])
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("certificate_pem", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("certificate_pem")
    with op.batch_alter_table("request_log") as batch:
        batch.drop_index("ix_request_log_request_id")
        batch.drop_index("ix_request_log_attributed")
        batch.drop_column("sign_information")
        batch.drop_column("attributed")
