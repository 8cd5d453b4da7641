"""`userpkg admin` commands about brands: brands, certificates, platform keys, appids,
permission, signtest, the request log and fault rules."""

from __future__ import annotations

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

BrandId = Annotated[str, typer.Argument(help="The brand id.", show_default=False)]
Offset = Annotated[int, typer.Option(min=0, help="Skip this many.")]
Limit = Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")]

brands = typer.Typer(help="Brands: create, list, show.", no_args_is_help=True)
certificates = typer.Typer(
    help="A brand's certificates: add (X.509 certificate or public key), list, remove.",
    no_args_is_help=True,
)
platform_keys = typer.Typer(
    help="Platform keys: create, show, set a brand's.", no_args_is_help=True
)
appids = typer.Typer(help="Appids: bind to a brand, unbind, list, register.", no_args_is_help=True)
faults = typer.Typer(help="Fault rules of a brand (sandbox or --faults): list, add, delete.")


@brands.command("create")
def create_brand(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The brand's name.")],
    brand_id: Annotated[str | None, typer.Option(help="Choose the id (else generated).")] = None,
    json_out: Json = False,
) -> None:
    """Create a brand (it gets the service's default platform key)."""
    with operator_call(ctx) as api:
        emit(ctx, api.create_brand(name, brand_id), show_fields)


@brands.command("list")
def list_brands(
    ctx: typer.Context, offset: Offset = 0, limit: Limit = 100, json_out: Json = False
) -> None:
    """List brands, oldest first."""
    with operator_call(ctx) as api:
        found = api.brands(offset, limit)
    emit(
        ctx,
        found,
        lambda d: show_page(
            d, ["brand_id", "name", "user_package_enabled", "platform_key_id"], "brands"
        ),
    )


@brands.command("show")
def show_brand(ctx: typer.Context, brand_id: BrandId, json_out: Json = False) -> None:
    """One brand with its appids, certificates and packages."""
    with operator_call(ctx) as api:
        brand = api.brand(brand_id)
        brand["certificates"] = api.certificates(brand_id)
        brand["user_packages"] = api.packages(brand_id)["data"]

    def human(b: dict[str, Any]) -> None:
        show_fields({k: v for k, v in b.items() if k not in ("certificates", "user_packages")})
        out.print("certificates:")
        show_table(b["certificates"], ["serial_no", "source", "added_time"])
        out.print("user packages:")
        show_table(b["user_packages"], ["user_package_id", "package_type", "member_count", "name"])

    emit(ctx, brand, human)


@certificates.command("add")
def add_certificate(
    ctx: typer.Context,
    brand_id: BrandId,
    pem_file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="apiclient_cert.pem (X.509 certificate) or a public key PEM.",
        ),
    ],
    serial_no: Annotated[
        str | None,
        typer.Option(help="Needed with a public key; with a certificate it must match."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Register a brand certificate; a certificate's own serial number is used."""
    try:
        pem = pem_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise usage(f"{pem_file} is not a PEM text file: {exc}") from None
    if "PRIVATE KEY" in pem:
        raise usage(
            f"{pem_file} holds a private key: give the certificate (apiclient_cert.pem) or the "
            "public key (`openssl pkey -in key.pem -pubout`); never hand out a private key"
        )
    with operator_call(ctx) as api:
        emit(ctx, api.add_certificate(brand_id, pem, serial_no))


@certificates.command("list")
def list_certificates(ctx: typer.Context, brand_id: BrandId, json_out: Json = False) -> None:
    """A brand's certificate serials, when each was added, and fingerprints."""
    with operator_call(ctx) as api:
        found = api.certificates(brand_id)
    emit(
        ctx,
        {"data": found, "total_count": len(found)},
        lambda d: show_table(
            d["data"], ["serial_no", "source", "added_time", "public_key_sha256"], "no certificates"
        ),
    )


@certificates.command("remove")
def remove_certificate(
    ctx: typer.Context,
    brand_id: BrandId,
    serial_no: Annotated[str, typer.Argument(help="The certificate's serial number.")],
    json_out: Json = False,
) -> None:
    """Stop accepting requests signed under this serial number."""
    with operator_call(ctx) as api:
        emit(ctx, api.remove_certificate(brand_id, serial_no))


@platform_keys.command("create")
def create_platform_key(ctx: typer.Context, json_out: Json = False) -> None:
    """Make a new platform key pair; prints its id and public key."""
    with operator_call(ctx) as api:
        emit(ctx, api.create_platform_key())


@platform_keys.command("show")
def show_platform_key(
    ctx: typer.Context,
    public_key_id: Annotated[str, typer.Argument(help="PUB_KEY_ID_…")],
    json_out: Json = False,
) -> None:
    """A platform public key (for brands to verify answers with)."""
    with operator_call(ctx) as api:
        emit(ctx, api.platform_key(public_key_id))


@platform_keys.command("set")
def set_platform_key(
    ctx: typer.Context,
    brand_id: BrandId,
    public_key_id: Annotated[str, typer.Argument(help="PUB_KEY_ID_…")],
    json_out: Json = False,
) -> None:
    """Sign this brand's answers with the platform key by default."""
    with operator_call(ctx) as api:
        emit(ctx, api.set_platform_key(brand_id, public_key_id), show_fields)


Appid = Annotated[str, typer.Argument(help="The appid.")]


@appids.command("bind")
def bind_appid(ctx: typer.Context, brand_id: BrandId, appid: Appid, json_out: Json = False) -> None:
    """Bind an appid to the brand: its openids are matched for the brand's uploads."""
    with operator_call(ctx) as api:
        emit(ctx, api.bind_appid(brand_id, appid))


@appids.command("unbind")
def unbind_appid(
    ctx: typer.Context, brand_id: BrandId, appid: Appid, json_out: Json = False
) -> None:
    """Unbind an appid from the brand."""
    with operator_call(ctx) as api:
        emit(ctx, api.unbind_appid(brand_id, appid))


@appids.command("list")
def list_appids(ctx: typer.Context, brand_id: BrandId, json_out: Json = False) -> None:
    """The appids bound to the brand."""
    with operator_call(ctx) as api:
        found = api.appids(brand_id)
    emit(
        ctx,
        {"data": found, "total_count": len(found)},
        lambda d: out.print("\n".join(d["data"]) or "no appids bound"),
    )


@appids.command("register")
def register_appid(ctx: typer.Context, appid: Appid, json_out: Json = False) -> None:
    """Make an appid known (users get openids under it) without binding it."""
    with operator_call(ctx) as api:
        emit(ctx, api.register_appid(appid))


class Switch(StrEnum):
    on = "on"
    off = "off"


def permission(
    ctx: typer.Context,
    brand_id: BrandId,
    state: Annotated[Switch, typer.Argument(help="on: may use user packages; off: 403 NO_AUTH.")],
    json_out: Json = False,
) -> None:
    """Allow (on) or refuse (off) the brand's user-package calls."""
    with operator_call(ctx) as api:
        emit(ctx, api.set_permission(brand_id, state is Switch.on))


def signtest(ctx: typer.Context, brand_id: BrandId, json_out: Json = False) -> None:
    """Make the brand's next brand API answer carry a WECHATPAY/SIGNTEST/ signature."""
    with operator_call(ctx) as api:
        emit(ctx, api.signtest(brand_id))


def requests(
    ctx: typer.Context,
    brand_id: Annotated[
        str | None, typer.Argument(help="The brand id (leave out with --unattributed).")
    ] = None,
    unattributed: Annotated[
        bool, typer.Option("--unattributed", help="Requests naming no known brand.")
    ] = False,
    limit: Limit = 50,
    request_id: Annotated[str | None, typer.Option(help="Only this Request-ID.")] = None,
    status: Annotated[int | None, typer.Option(min=100, max=599, help="Only this status.")] = None,
    code: Annotated[str | None, typer.Option(help="Only this error code.")] = None,
    json_out: Json = False,
) -> None:
    """The request log, newest first, with each signature check's outcome."""
    if (brand_id is None) == (not unattributed):
        raise usage("give a brand id, or --unattributed for requests naming no known brand")
    with operator_call(ctx) as api:
        found = api.requests(
            None if unattributed else brand_id,
            limit,
            request_id=request_id,
            status=status,
            code=code,
        )

    def human(d: dict[str, Any]) -> None:
        columns = ["time", "method", "path", "status", "code", "auth", "request_id"]
        if any(entry.get("fault_id") for entry in d["data"]):
            columns.append("fault_id")
        show_table(d["data"], (["claimed_brand_id"] if unattributed else []) + columns, "none")
        for entry in d["data"]:
            shown = entry.get("sign_information")
            if shown:
                out.print(f"\n{entry['request_id']}: the service's string to sign:")
                out.print(shown.get("truncated_sign_message", ""), markup=False)

    emit(ctx, {"data": found, "total_count": len(found)}, human)


class Endpoint(StrEnum):
    init_upload = "init_upload"
    upload_part = "upload_part"
    merge_upload = "merge_upload"
    expand = "expand"
    any = "*"


@faults.command("list")
def list_faults(ctx: typer.Context, brand_id: BrandId, json_out: Json = False) -> None:
    """The brand's active fault rules, oldest first."""
    with operator_call(ctx) as api:
        found = api.faults(brand_id)
    emit(
        ctx,
        {"data": found},
        lambda d: show_table(
            d["data"], ["fault_id", "endpoint", "kind", "remaining"], "no fault rules"
        ),
    )


@faults.command("add")
def add_fault(
    ctx: typer.Context,
    brand_id: BrandId,
    kind: Annotated[
        str,
        typer.Argument(
            help="error, delay, drop, lost_response, bad_signature, stale_timestamp, "
            "wrong_serial or task_failed."
        ),
    ],
    endpoint: Annotated[Endpoint, typer.Option(help="Which brand API call.")] = Endpoint.any,
    times: Annotated[int, typer.Option(min=1, help="How many requests it applies to.")] = 1,
    status: Annotated[int | None, typer.Option(help="error: the HTTP status.")] = None,
    code: Annotated[str | None, typer.Option(help="error: the error code.")] = None,
    message: Annotated[str | None, typer.Option(help="error, task_failed: the message.")] = None,
    retry_after: Annotated[int | None, typer.Option(help="error: Retry-After seconds.")] = None,
    delay_ms: Annotated[int | None, typer.Option(help="delay: milliseconds.")] = None,
    json_out: Json = False,
) -> None:
    """Add a fault rule: the brand's next authenticated requests misbehave on purpose."""
    rule: dict[str, Any] = {"endpoint": endpoint.value, "kind": kind, "times": times}
    extras = {
        "status": status,
        "code": code,
        "message": message,
        "retry_after": retry_after,
        "delay_ms": delay_ms,
    }
    rule |= {k: v for k, v in extras.items() if v is not None}
    with operator_call(ctx) as api:
        emit(ctx, api.add_fault(brand_id, rule))


@faults.command("delete")
def delete_fault(
    ctx: typer.Context,
    brand_id: BrandId,
    fault_id: Annotated[str, typer.Argument(help="The rule's fault_id.")],
    json_out: Json = False,
) -> None:
    """Delete a fault rule."""
    with operator_call(ctx) as api:
        api.delete_fault(brand_id, fault_id)
    emit(ctx, {"brand_id": brand_id, "fault_id": fault_id, "deleted": True})
