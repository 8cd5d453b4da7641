"""`userpkg admin` commands about audiences: packages, membership, users and the clock."""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from userpkg.cli.operator_session import (
    Json,
    emit,
    operator_call,
    out,
    show_fields,
    show_page,
    show_table,
    usage,
)

PackageId = Annotated[str, typer.Argument(help="The user_package_id (20 digits).")]
Offset = Annotated[int, typer.Option(min=0, help="Skip this many.")]
Limit = Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")]

packages = typer.Typer(help="User packages: create, list, show.", no_args_is_help=True)
members = typer.Typer(help="Membership: check one user.", no_args_is_help=True)
users = typer.Typer(
    help="The user directory: create, generate, import, show, list.", no_args_is_help=True
)
clock = typer.Typer(help="Business time: show, advance (sandbox).", no_args_is_help=True)


class PackageTypeName(StrEnum):
    targeted_exposure = "targeted-exposure"
    risk_user = "risk-user"


def wire_type(name: PackageTypeName) -> str:
    """The wire value, imported when a command runs (`--help` should not load pydantic)."""
    from userpkg.protocol import PackageType

    if name is PackageTypeName.targeted_exposure:
        return PackageType.TARGETED_EXPOSURE.value
    return PackageType.RISK_USER.value


@packages.command("create")
def create_package(
    ctx: typer.Context,
    brand_id: Annotated[str, typer.Argument(help="The brand id.")],
    name: Annotated[str, typer.Argument(help="The package's name.")],
    package_type: Annotated[
        PackageTypeName, typer.Option("--type", help="The package type.")
    ] = PackageTypeName.targeted_exposure,
    json_out: Json = False,
) -> None:
    """Create an empty user package for a brand."""
    with operator_call(ctx) as api:
        emit(ctx, api.create_package(brand_id, name, wire_type(package_type)))


@packages.command("list")
def list_packages(
    ctx: typer.Context,
    brand_id: Annotated[str, typer.Argument(help="The brand id.")],
    offset: Offset = 0,
    limit: Limit = 100,
    json_out: Json = False,
) -> None:
    """A brand's packages with member counts."""
    with operator_call(ctx) as api:
        found = api.packages(brand_id, offset, limit)
    emit(
        ctx,
        found,
        lambda d: show_table(
            d["data"],
            ["user_package_id", "package_type", "member_count", "create_time", "name"],
            "no packages",
        ),
    )


@packages.command("show")
def show_package(ctx: typer.Context, package_id: PackageId, json_out: Json = False) -> None:
    """One package: member count and its expand tasks with their stats."""
    with operator_call(ctx) as api:
        package = api.user_package(package_id)
        package["tasks"] = api.request(
            "GET", f"user-packages/{package_id}/tasks", params={"limit": 1000}
        )["data"]

    def human(p: dict[str, Any]) -> None:
        show_fields({k: v for k, v in p.items() if k != "tasks"})
        rows = [
            {**t, **(t.get("stats") or {}), "upload_id": t["upload_id"][:24]} for t in p["tasks"]
        ]
        out.print("tasks:")
        show_table(
            rows,
            ["upload_id", "state", "submit_time", "effective_time", "lines", "matched", "added"],
            "no tasks",
        )

    emit(ctx, package, human)


PHONE = re.compile(r"^1[3-9][0-9]{9}$")


@members.command("check")
def check_member(
    ctx: typer.Context,
    package_id: PackageId,
    user_id: Annotated[int | None, typer.Option(min=0, help="A user id.")] = None,
    appid: Annotated[str | None, typer.Option(help="With --openid.")] = None,
    openid: Annotated[str | None, typer.Option(help="With --appid.")] = None,
    md5_phone: Annotated[str | None, typer.Option(help="MD5 of the phone number.")] = None,
    phone: Annotated[
        str | None, typer.Option(help="A phone number (hashed here; only the MD5 is sent).")
    ] = None,
    json_out: Json = False,
) -> None:
    """Is a user a member? Give one of --user-id, --appid with --openid, --md5-phone, --phone."""
    if phone is not None:
        if not PHONE.match(phone):
            raise usage("--phone takes 11 digits starting with 1 (no +86, spaces or dashes)")
        md5_phone = hashlib.md5(phone.encode("ascii")).hexdigest()  # noqa: S324 (the wire format)
    way: dict[str, Any] = {
        k: v
        for k, v in (("user_id", user_id), ("md5_phone", md5_phone), ("appid", appid))
        if v is not None
    }
    if openid is not None:
        way["openid"] = openid
    given = sum(
        [user_id is not None, md5_phone is not None, appid is not None or openid is not None]
    )
    if given != 1 or ((appid is None) != (openid is None)):
        raise usage("give exactly one of --user-id, --appid with --openid, --md5-phone, --phone")
    with operator_call(ctx) as api:
        member = api.check_member(package_id, **way)
    emit(
        ctx,
        {"user_package_id": package_id, "member": member},
        lambda d: out.print("member" if d["member"] else "not a member"),
    )


@users.command("create")
def create_users(
    ctx: typer.Context,
    phone: Annotated[
        list[str] | None, typer.Option(help="A phone number; repeat for more users.")
    ] = None,
    without_phone: Annotated[
        int, typer.Option(min=0, help="Also this many users without a phone.")
    ] = 0,
    json_out: Json = False,
) -> None:
    """Add users with the phone numbers given (and/or without phone); prints their ids."""
    phones: list[str | None] = [*(phone or []), *([None] * without_phone)]
    if not phones:
        raise usage("give --phone (repeatable) or --without-phone N; or use `users generate N`")
    with operator_call(ctx) as api:
        created = api.create_users(phones)
    emit(
        ctx,
        {"data": created, "total_count": len(created)},
        lambda d: show_table(d["data"], ["user_id", "phone"]),
    )


@users.command("import")
def import_users(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="One 11-digit phone number a line."
        ),
    ],
    json_out: Json = False,
) -> None:
    """Add every phone number of FILE as a user, streamed; numbers already known are counted.

    A file with a bad line is refused whole (its line numbers are printed) and adds nobody;
    sending the same file again adds only what is missing.
    """
    with operator_call(ctx) as api:
        emit(ctx, api.import_users(file))


@users.command("generate")
def generate_users(
    ctx: typer.Context,
    count: Annotated[int, typer.Argument(min=1, max=10_000_000, help="How many users.")],
    json_out: Json = False,
) -> None:
    """Make COUNT synthetic users (phones and openids made up)."""
    with operator_call(ctx) as api:
        emit(ctx, api.generate_users(count))


@users.command("show")
def show_user(
    ctx: typer.Context,
    user_id: Annotated[int, typer.Argument(min=1, help="The user id.")],
    json_out: Json = False,
) -> None:
    """A user's phone and openid under each known appid."""
    with operator_call(ctx) as api:
        emit(ctx, api.user(user_id))


@users.command("list")
def list_users(
    ctx: typer.Context, offset: Offset = 0, limit: Limit = 20, json_out: Json = False
) -> None:
    """Users, a page at a time."""
    with operator_call(ctx) as api:
        found = api.users(offset, limit)
    emit(
        ctx,
        found,
        lambda d: show_page(d, ["user_id", "phone", "openids"], "users"),
    )


@clock.command("show")
def show_clock(ctx: typer.Context, json_out: Json = False) -> None:
    """Business time (effective times, upload expiry) and its offset from real time."""
    with operator_call(ctx) as api:
        emit(ctx, api.clock())


DURATION = re.compile(r"^(\d+)([smhd]?)$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@clock.command("advance")
def advance_clock(
    ctx: typer.Context,
    duration: Annotated[str, typer.Argument(help="How far: 3600, 90s, 30m, 12h, 2d.")],
    json_out: Json = False,
) -> None:
    """Move business time forward (sandbox only): due tasks take effect."""
    match = DURATION.match(duration.strip())
    if match is None:
        raise usage(f"duration {duration!r}: use seconds or a number with s, m, h or d (e.g. 2d)")
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    with operator_call(ctx) as api:
        emit(ctx, api.advance_clock(seconds))
