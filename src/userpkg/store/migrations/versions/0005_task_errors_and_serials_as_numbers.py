"""task errors counted apart from crashes; certificate serials stored as openssl prints them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 06:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _serial_text(serial_no: str) -> str:
    """A copy of protocol.keys.serial_text as of this revision: migrations never change."""
    text = serial_no.strip().upper()
    if not text or any(c not in "0123456789ABCDEF" for c in text):
        return text
    digits = text.lstrip("0") or "0"
    return digits.rjust(len(digits) + len(digits) % 2, "0")


def upgrade() -> None:
    with op.batch_alter_table("expand_tasks") as batch:
        batch.add_column(sa.Column("errors", sa.Integer(), nullable=False, server_default="0"))
    certificates = sa.table(
        "certificates", sa.column("brand_id", sa.String), sa.column("serial_no", sa.String)
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(certificates.c.brand_id, certificates.c.serial_no)).all()
    taken = {(row.brand_id, row.serial_no) for row in rows}
    for row in rows:
        canonical = _serial_text(row.serial_no)
        if canonical == row.serial_no or (row.brand_id, canonical) in taken:
            continue
        conn.execute(
            sa.update(certificates)
            .where(
                certificates.c.brand_id == row.brand_id,
                certificates.c.serial_no == row.serial_no,
            )
            .values(serial_no=canonical)
        )
        taken.add((row.brand_id, canonical))


def downgrade() -> None:
    with op.batch_alter_table("expand_tasks") as batch:
        batch.drop_column("errors")
