"""Enums and the request/response bodies of the brand API (SPEC §5).

Requests ignore unknown fields and are strict about types; responses keep unknown fields,
because the public host may add some at any time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
)

DESCRIPTION = (15, 128)
"""An upload's description: at least and at most this many characters."""


class PackageType(StrEnum):
    TARGETED_EXPOSURE = "USER_PACKAGE_TYPE_TARGETED_EXPOSURE"
    RISK_USER = "USER_PACKAGE_TYPE_RISK_USER"


class DataType(StrEnum):
    OPENID = "USER_PACKAGE_DATA_TYPE_OPENID"
    MD5_PHONE = "USER_PACKAGE_DATA_TYPE_MD5_PHONE"


class ProcessState(StrEnum):
    PROCESSING = "USER_PACKAGE_PROCESS_STATE_PROCESSING"
    FINISHED = "USER_PACKAGE_PROCESS_STATE_FINISHED"
    FAILED = "USER_PACKAGE_PROCESS_STATE_FAILED"

    @property
    def is_final(self) -> bool:
        return self is not ProcessState.PROCESSING


FILENAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
UPLOAD_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
USER_PACKAGE_ID_PATTERN = r"^[0-9]{20}$"

Sha256Hex = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[0-9A-Fa-f]{64}$"),
    AfterValidator(str.lower),
]
StrictInt = Annotated[int, Strict()]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Response(BaseModel):
    """A response body: unknown fields are kept, and so is the JSON exactly as received."""

    model_config = ConfigDict(extra="allow")
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        made = cls.model_validate(data)
        made._raw = data
        return made

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw


class UserPackageFileInfo(_Request):
    filename: Annotated[
        str,
        Strict(),
        StringConstraints(min_length=5, max_length=128, pattern=r"^[A-Za-z0-9_.-]+\.csv$"),
    ]
    digest: Sha256Hex
    file_size: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
    package_type: PackageType
    data_type: DataType
    description: Annotated[
        str, Strict(), StringConstraints(min_length=DESCRIPTION[0], max_length=DESCRIPTION[1])
    ]


class InitUploadRequest(_Request):
    user_package_file_info: UserPackageFileInfo


class InitUploadResponse(_Response):
    upload_id: str
    part_size: int
    part_count: int
    expire_time: str


class FileMeta(_Request):
    """The `file_meta` part of a part upload; its exact bytes are the signed body."""

    filename: Annotated[
        str, Strict(), StringConstraints(min_length=1, max_length=128, pattern=FILENAME_PATTERN)
    ]
    digest: Sha256Hex


class UploadPartResponse(_Response):
    upload_id: str
    part_number: int
    digest: str
    size: int


class MergeResponse(_Response):
    upload_id: str
    resource_id: str
    file_size: int
    digest: str


class ExpandRequest(_Request):
    upload_id: Annotated[str, Strict(), StringConstraints(pattern=UPLOAD_ID_PATTERN)]


class ExpandResponse(_Response):
    return_message: str
    state: str

    @property
    def is_final(self) -> bool:
        """Final by the public states; an unknown state from the host is treated as not final."""
        return self.state in (ProcessState.FINISHED.value, ProcessState.FAILED.value)
