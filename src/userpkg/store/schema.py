"""Every table, in SQLAlchemy Core. Times are Unix seconds (integers) unless named otherwise.

Alembic migrations under `migrations/` create and evolve these; the two must agree, which
`tests/test_migrations.py` checks.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

service_state = Table(
    "service_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

platform_keys = Table(
    "platform_keys",
    metadata,
    Column("public_key_id", String(64), primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

brands = Table(
    "brands",
    metadata,
    Column("brand_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("user_package_enabled", Boolean, nullable=False),
    Column("platform_key_id", String(64), ForeignKey("platform_keys.public_key_id")),
    Column("signtest_pending", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

brand_platform_keys = Table(
    "brand_platform_keys",
    metadata,
    Column("brand_id", String(32), ForeignKey("brands.brand_id"), primary_key=True),
    Column(
        "public_key_id", String(64), ForeignKey("platform_keys.public_key_id"), primary_key=True
    ),
)

certificates = Table(
    "certificates",
    metadata,
    Column("brand_id", String(32), ForeignKey("brands.brand_id"), primary_key=True),
    Column("serial_no", String(64), primary_key=True),
    Column("public_key_pem", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("certificate_pem", Text),
)

appids = Table(
    "appids",
    metadata,
    Column("appid", String(32), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

appid_bindings = Table(
    "appid_bindings",
    metadata,
    Column("brand_id", String(32), ForeignKey("brands.brand_id"), primary_key=True),
    Column("appid", String(32), ForeignKey("appids.appid"), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_appid_bindings_appid", "appid"),
)

users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("phone", BigInteger, unique=True),
)

synthetic_ranges = Table(
    "synthetic_ranges",
    metadata,
    Column("first_id", BigInteger, primary_key=True, autoincrement=False),
    Column("count", BigInteger, nullable=False),
)

user_packages = Table(
    "user_packages",
    metadata,
    Column("user_package_id", String(20), primary_key=True),
    Column("brand_id", String(32), ForeignKey("brands.brand_id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("package_type", String(64), nullable=False),
    Column("member_count", BigInteger, nullable=False),
    Column("members", String(128)),
    Column("created_at", BigInteger, nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(128), primary_key=True),
    Column("brand_id", String(32), ForeignKey("brands.brand_id"), nullable=False),
    Column("filename", String(128), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("package_type", String(64), nullable=False),
    Column("data_type", String(64), nullable=False),
    Column("description", String(512), nullable=False),
    Column("part_size", BigInteger, nullable=False),
    Column("part_count", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expire_time", BigInteger, nullable=False),
    Column("resource_id", String(128), unique=True),
    Column("merged_at", BigInteger),
    Column("user_package_id", String(20), ForeignKey("user_packages.user_package_id")),
    Index("ix_uploads_brand_filename", "brand_id", "filename"),
    Index("ix_uploads_state_expire", "state", "expire_time"),
)

upload_parts = Table(
    "upload_parts",
    metadata,
    Column("upload_id", String(128), ForeignKey("uploads.upload_id"), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

STAT_COLUMNS = (
    "lines",
    "blank",
    "malformed",
    "unrecognised",
    "matched",
    "duplicates",
    "already_members",
    "added",
)

expand_tasks = Table(
    "expand_tasks",
    metadata,
    Column("task_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_package_id",
        String(20),
        ForeignKey("user_packages.user_package_id"),
        nullable=False,
        index=True,
    ),
    Column("upload_id", String(128), ForeignKey("uploads.upload_id"), nullable=False),
    Column("brand_id", String(32), nullable=False),
    Column("state", String(48), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("delta", String(128)),
    Column("return_message", Text, nullable=False),
    Column("submit_time", BigInteger, nullable=False),
    Column("effective_time", BigInteger),
    Column("finish_time", BigInteger),
    *(Column(name, BigInteger) for name in STAT_COLUMNS),
    Column("attempts", Integer, nullable=False),
    Column("errors", Integer, nullable=False, server_default="0"),
    Column("lease_owner", String(64)),
    Column("lease_expires", BigInteger),
    UniqueConstraint("upload_id", name="uq_expand_tasks_upload"),
    Index("ix_expand_tasks_phase", "phase", "effective_time"),
)

nonces = Table(
    "nonces",
    metadata,
    Column("brand_id", String(32), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

request_log = Table(
    "request_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("brand_id", String(32), nullable=False),
    Column("time", Float, nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(512), nullable=False),
    Column("status", Integer, nullable=False),
    Column("code", String(32)),
    Column("request_id", String(64), nullable=False),
    Column("auth", String(200), nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("attributed", Boolean, nullable=False, server_default=true()),
    Column("sign_information", Text),
    Column("fault_id", String(40)),
    Index("ix_request_log_brand_id", "brand_id", "id"),
    Index("ix_request_log_attributed", "attributed", "id"),
    Index("ix_request_log_request_id", "request_id"),
)

blob_chunks = Table(
    "blob_chunks",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

member_chunks = Table(
    "member_chunks",
    metadata,
    Column(
        "user_package_id",
        String(20),
        ForeignKey("user_packages.user_package_id"),
        primary_key=True,
    ),
    Column("chunk_key", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("brand_id", String(32), primary_key=True),
    Column("endpoint", String(32), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("allowed", Boolean, nullable=False),
)

fault_rules = Table(
    "fault_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fault_id", String(40), nullable=False, unique=True),
    Column("brand_id", String(32), ForeignKey("brands.brand_id"), nullable=False),
    Column("endpoint", String(16), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("times", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("fields", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_fault_rules_brand", "brand_id", "remaining", "id"),
)
