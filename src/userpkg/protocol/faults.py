"""Fault rules (SPEC §10): the body an operator posts, shared by the service and its clients.

A rule names one endpoint (or "*") and one kind; the extra fields a kind takes are checked
here so that a typo (`delay` for `delay_ms`) is a PARAM_ERROR, not a rule that does nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator


class FaultKind(StrEnum):
    ERROR = "error"
    DELAY = "delay"
    DROP = "drop"
    LOST_RESPONSE = "lost_response"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    WRONG_SERIAL = "wrong_serial"
    TASK_FAILED = "task_failed"


class FaultEndpoint(StrEnum):
    INIT_UPLOAD = "init_upload"
    UPLOAD_PART = "upload_part"
    MERGE_UPLOAD = "merge_upload"
    EXPAND = "expand"
    ANY = "*"


EXTRA_FIELDS: dict[FaultKind, frozenset[str]] = {
    FaultKind.ERROR: frozenset({"status", "code", "message", "retry_after"}),
    FaultKind.DELAY: frozenset({"delay_ms"}),
    FaultKind.TASK_FAILED: frozenset({"message"}),
}
STALE_SECONDS = 600
MAX_DELAY_MS = 120_000


class FaultRuleBody(BaseModel):
    """`POST /admin/v1/brands/{brand_id}/faults`; unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: FaultEndpoint
    kind: FaultKind
    times: Annotated[int, Strict(), Field(ge=1, le=1_000_000)] = 1
    status: Annotated[int, Strict(), Field(ge=400, le=599)] | None = None
    code: Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")] | None = (
        None
    )
    message: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)] | None = None
    retry_after: Annotated[int, Strict(), Field(ge=0, le=86_400)] | None = None
    delay_ms: Annotated[int, Strict(), Field(ge=1, le=MAX_DELAY_MS)] | None = None

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> FaultRuleBody:
        allowed = EXTRA_FIELDS.get(self.kind, frozenset())
        for name in ("status", "code", "message", "retry_after", "delay_ms"):
            if getattr(self, name) is not None and name not in allowed:
                raise ValueError(f"{name} does not apply to kind {self.kind.value}")
        if self.kind is FaultKind.DELAY and self.delay_ms is None:
            raise ValueError("kind delay needs delay_ms (milliseconds, 1 to 120000)")
        if self.kind is FaultKind.TASK_FAILED and self.endpoint is not FaultEndpoint.EXPAND:
            raise ValueError('kind task_failed applies only to endpoint "expand"')
        return self

    def fields(self) -> dict[str, Any]:
        """The kind's extra fields, defaults filled in, as the rule stores them."""
        if self.kind is FaultKind.ERROR:
            out: dict[str, Any] = {
                "status": self.status or 500,
                "code": self.code or "SYSTEM_ERROR",
                "message": self.message
                or "injected fault: the service answered an error on purpose (sandbox fault rule)",
            }
            if self.retry_after is not None:
                out["retry_after"] = self.retry_after
            return out
        if self.kind is FaultKind.DELAY:
            return {"delay_ms": self.delay_ms}
        if self.kind is FaultKind.TASK_FAILED:
            return {
                "message": self.message
                or "injected fault: this task was failed on purpose (sandbox fault rule)"
            }
        return {}
