"""Request bodies of the operator API (SPEC §8), shared by the service and any client of it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from userpkg.protocol.models import PackageType

Text = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=128)]
Id = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CreateBrand(_Body):
    brand_id: Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9A-Za-z]{1,32}$")] | None = (
        None
    )
    name: Text


Pem = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=16384)]


class AddCertificate(_Body):
    """An X.509 certificate (serial taken from it) or a public key with its serial_no."""

    serial_no: (
        Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9A-Fa-f]{1,64}$")] | None
    ) = None
    public_key_pem: Pem | None = None
    certificate_pem: Pem | None = None


class SetPlatformKey(_Body):
    public_key_id: Id


class AppidBody(_Body):
    appid: Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9A-Za-z_]{1,32}$")]


class SetPermission(_Body):
    user_package: Annotated[bool, Strict()]


class CreatePackage(_Body):
    name: Text
    package_type: PackageType


class NewUser(_Body):
    phone: Annotated[str, Strict(), StringConstraints(pattern=r"^1[3-9][0-9]{9}$")] | None = None


class CreateUsers(_Body):
    users: list[NewUser] | None = Field(default=None, max_length=100_000)
    generate: Annotated[int, Strict(), Field(ge=1, le=10_000_000)] | None = None


class MemberCheck(_Body):
    user_id: Annotated[int, Strict(), Field(ge=0, le=2**32 - 1)] | None = None
    appid: Annotated[str, Strict(), StringConstraints(max_length=32)] | None = None
    openid: Annotated[str, Strict(), StringConstraints(max_length=64)] | None = None
    md5_phone: Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9A-Fa-f]{32}$")] | None = (
        None
    )


class ClockAdvance(_Body):
    seconds: Annotated[int, Strict(), Field(ge=0, le=10 * 365 * 86400)]
