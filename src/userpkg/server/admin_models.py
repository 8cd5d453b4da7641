"""Answers of the operator API as pydantic models, so /docs and /redoc show their schemas.

Models allow extra fields: a field added to an answer later is passed on, not dropped.
Times are RFC 3339 strings in Asia/Shanghai (`2026-11-28T12:00:00+08:00`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class BrandView(_Answer):
    brand_id: str = Field(examples=["1000001"])
    name: str = Field(examples=["Example Coffee"])
    user_package_enabled: bool
    platform_key_id: str | None = Field(examples=["PUB_KEY_ID_0114232134912410000"])
    platform_key_ids: list[str]
    create_time: str = Field(examples=["2026-11-28T12:00:00+08:00"])
    appids: list[str] | None = Field(default=None, description="only when one brand is shown")


class BrandPage(_Answer):
    data: list[BrandView]
    total_count: int


class CertificateView(_Answer):
    brand_id: str
    serial_no: str = Field(examples=["3B7C1E0A9F25D4C8B61E07A3F2D95C4E81B0A7D2"])
    source: str = Field(description="`certificate` (X.509 given) or `public_key`")
    public_key_sha256: str = Field(description="SHA-256 of the public key (DER SPKI)")
    certificate_sha256: str | None = Field(
        description="SHA-256 of the certificate (DER), as `openssl x509 -fingerprint -sha256`"
    )
    added_time: str


class CertificatePage(_Answer):
    data: list[CertificateView]
    total_count: int


class CertificateRemoved(_Answer):
    brand_id: str
    serial_no: str
    removed: bool


class PlatformKeyView(_Answer):
    public_key_id: str = Field(examples=["PUB_KEY_ID_0114232134912410000"])
    public_key_pem: str


class AppidView(_Answer):
    appid: str = Field(examples=["wx1234567890abcdef"])


class AppidBinding(_Answer):
    brand_id: str
    appid: str
    bound: bool | None = None


class AppidPage(_Answer):
    data: list[str]
    total_count: int


class PermissionView(_Answer):
    brand_id: str
    user_package: bool


class SigntestView(_Answer):
    brand_id: str
    signtest: str


class RequestEntryView(_Answer):
    time: str
    method: str
    path: str
    status: int
    code: str | None
    request_id: str
    auth: str = Field(
        description="the signature check's outcome: `ok`, `bad signature`, `unknown serial_no`, "
        "`timestamp out of window`, `replayed nonce`, …"
    )
    latency_ms: float
    sign_information: dict[str, Any] | None = Field(
        default=None,
        description="for a bad signature: the service's string to sign (never key material)",
    )
    claimed_brand_id: str | None = Field(
        default=None, description="unattributed entries: the brand id the request named"
    )
    fault_id: str | None = Field(
        default=None, description="the fault rule that spoiled this request, if one did"
    )


class RequestPage(_Answer):
    data: list[RequestEntryView]
    total_count: int


class PackageView(_Answer):
    user_package_id: str = Field(examples=["10000000000000000001"])
    brand_id: str
    name: str
    package_type: str
    member_count: int
    create_time: str


class PackagePage(_Answer):
    data: list[PackageView]
    total_count: int


class TaskStats(_Answer):
    """§7's counts; `already_members` and `added` stay null until the task takes effect."""

    lines: int | None
    blank: int | None
    malformed: int | None
    unrecognised: int | None
    matched: int | None
    duplicates: int | None
    already_members: int | None
    added: int | None


class TaskView(_Answer):
    upload_id: str
    state: str
    return_message: str
    submit_time: str
    effective_time: str | None
    finish_time: str | None
    stats: TaskStats | None


class TaskPage(_Answer):
    data: list[TaskView]
    total_count: int


class MemberAnswer(_Answer):
    member: bool


class NewUserView(_Answer):
    user_id: int
    phone: str | None


class UsersCreated(_Answer):
    data: list[NewUserView] | None = Field(default=None, description="for `users`")
    total_count: int | None = None
    first_user_id: int | None = Field(default=None, description="for `generate`")
    count: int | None = None


class UsersImported(_Answer):
    """`POST /users/import`: every non-blank line is one of imported, duplicates, already_known."""

    lines: int
    blank: int
    imported: int = Field(description="new users, one per distinct new number")
    duplicates: int = Field(description="later lines of a number this import added")
    already_known: int = Field(description="lines of a number a user had before the import")
    first_user_id: int | None = Field(description="null when nothing was imported")
    last_user_id: int | None


class UserView(_Answer):
    user_id: int
    phone: str | None
    openids: dict[str, str]


class UserPage(_Answer):
    data: list[UserView]
    total_count: int


class ClockView(_Answer):
    now: str = Field(examples=["2026-11-28T12:00:00+08:00"])
    offset_seconds: int | None = None
