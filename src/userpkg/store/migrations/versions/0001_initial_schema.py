"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:40:30.870203
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appids",
        sa.Column("appid", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("appid"),
    )
    op.create_table(
        "nonces",
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("brand_id", "nonce"),
    )
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nonces_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "platform_keys",
        sa.Column("public_key_id", sa.String(length=64), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("public_key_id"),
    )
    op.create_table(
        "request_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("auth", sa.String(length=200), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_log", schema=None) as batch_op:
        batch_op.create_index("ix_request_log_brand_id", ["brand_id", "id"], unique=False)

    op.create_table(
        "service_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "synthetic_ranges",
        sa.Column("first_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("first_id"),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("phone", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("phone"),
    )
    op.create_table(
        "brands",
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("user_package_enabled", sa.Boolean(), nullable=False),
        sa.Column("platform_key_id", sa.String(length=64), nullable=True),
        sa.Column("signtest_pending", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_key_id"],
            ["platform_keys.public_key_id"],
        ),
        sa.PrimaryKeyConstraint("brand_id"),
    )
    op.create_table(
        "appid_bindings",
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("appid", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appid"],
            ["appids.appid"],
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
        ),
        sa.PrimaryKeyConstraint("brand_id", "appid"),
    )
    with op.batch_alter_table("appid_bindings", schema=None) as batch_op:
        batch_op.create_index("ix_appid_bindings_appid", ["appid"], unique=False)

    op.create_table(
        "brand_platform_keys",
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("public_key_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
        ),
        sa.ForeignKeyConstraint(
            ["public_key_id"],
            ["platform_keys.public_key_id"],
        ),
        sa.PrimaryKeyConstraint("brand_id", "public_key_id"),
    )
    op.create_table(
        "certificates",
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("serial_no", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
        ),
        sa.PrimaryKeyConstraint("brand_id", "serial_no"),
    )
    op.create_table(
        "user_packages",
        sa.Column("user_package_id", sa.String(length=20), nullable=False),
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("package_type", sa.String(length=64), nullable=False),
        sa.Column("member_count", sa.BigInteger(), nullable=False),
        sa.Column("members", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
        ),
        sa.PrimaryKeyConstraint("user_package_id"),
    )
    with op.batch_alter_table("user_packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_packages_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.String(length=128), nullable=False),
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("package_type", sa.String(length=64), nullable=False),
        sa.Column("data_type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("part_size", sa.BigInteger(), nullable=False),
        sa.Column("part_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expire_time", sa.BigInteger(), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=True),
        sa.Column("merged_at", sa.BigInteger(), nullable=True),
        sa.Column("user_package_id", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_package_id"],
            ["user_packages.user_package_id"],
        ),
        sa.PrimaryKeyConstraint("upload_id"),
        sa.UniqueConstraint("resource_id"),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index("ix_uploads_brand_filename", ["brand_id", "filename"], unique=False)
        batch_op.create_index("ix_uploads_state_expire", ["state", "expire_time"], unique=False)

    op.create_table(
        "expand_tasks",
        sa.Column("task_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_package_id", sa.String(length=20), nullable=False),
        sa.Column("upload_id", sa.String(length=128), nullable=False),
        sa.Column("brand_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=48), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.String(length=128), nullable=True),
        sa.Column("return_message", sa.Text(), nullable=False),
        sa.Column("submit_time", sa.BigInteger(), nullable=False),
        sa.Column("effective_time", sa.BigInteger(), nullable=True),
        sa.Column("finish_time", sa.BigInteger(), nullable=True),
        sa.Column("lines", sa.BigInteger(), nullable=True),
        sa.Column("blank", sa.BigInteger(), nullable=True),
        sa.Column("malformed", sa.BigInteger(), nullable=True),
        sa.Column("unrecognised", sa.BigInteger(), nullable=True),
        sa.Column("matched", sa.BigInteger(), nullable=True),
        sa.Column("duplicates", sa.BigInteger(), nullable=True),
        sa.Column("already_members", sa.BigInteger(), nullable=True),
        sa.Column("added", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.upload_id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_package_id"],
            ["user_packages.user_package_id"],
        ),
        sa.PrimaryKeyConstraint("task_id"),
        sa.UniqueConstraint("upload_id", name="uq_expand_tasks_upload"),
    )
    with op.batch_alter_table("expand_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_expand_tasks_phase", ["phase", "effective_time"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_expand_tasks_user_package_id"), ["user_package_id"], unique=False
        )

    op.create_table(
        "upload_parts",
        sa.Column("upload_id", sa.String(length=128), nullable=False),
        sa.Column("part_number", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.upload_id"],
        ),
        sa.PrimaryKeyConstraint("upload_id", "part_number"),
    )


def downgrade() -> None:
    op.drop_table("upload_parts")
    with op.batch_alter_table("expand_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expand_tasks_user_package_id"))
        batch_op.drop_index("ix_expand_tasks_phase")

    op.drop_table("expand_tasks")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_uploads_state_expire")
        batch_op.drop_index("ix_uploads_brand_filename")

    op.drop_table("uploads")
    with op.batch_alter_table("user_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_packages_brand_id"))

    op.drop_table("user_packages")
    op.drop_table("certificates")
    op.drop_table("brand_platform_keys")
    with op.batch_alter_table("appid_bindings", schema=None) as batch_op:
        batch_op.drop_index("ix_appid_bindings_appid")

    op.drop_table("appid_bindings")
    op.drop_table("brands")
    op.drop_table("users")
    op.drop_table("synthetic_ranges")
    op.drop_table("service_state")
    with op.batch_alter_table("request_log", schema=None) as batch_op:
        batch_op.drop_index("ix_request_log_brand_id")

    op.drop_table("request_log")
    op.drop_table("platform_keys")
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nonces_expires_at"))

    op.drop_table("nonces")
    op.drop_table("appids")
