"""`userpkg admin …`: the operator API (SPEC §8, §10) from the shell, `--json` everywhere.

Exit status: 0 success; 1 the service answered an error or did not answer (URL named);
2 bad usage or local input. Only client code is imported, so brand commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from userpkg.cli import admin_brands, admin_packages, admin_reset
from userpkg.cli.operator_session import Session

app = typer.Typer(
    help="Operate a userpkg service: brands, certificates, packages, users, clock, signtest, "
    "requests, faults. URL and token: --url/--token, USERPKG_ADMIN_URL/USERPKG_ADMIN_TOKEN, "
    "or a sandbox manifest.",
    no_args_is_help=True,
)


@app.callback()
def admin(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            help="The service (else USERPKG_ADMIN_URL, the manifest, http://127.0.0.1:8080)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="The operator token (else USERPKG_ADMIN_TOKEN or the manifest).",
            show_default=False,
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            help="A sandbox's sandbox.json (default ./userpkg-data/sandbox/sandbox.json).",
            dir_okay=False,
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Every command prints one JSON document.")
    ] = False,
) -> None:
    """Operate a userpkg service through its operator API."""
    session = Session(url=url, token=token, manifest=manifest, json=json_out)
    ctx.obj = session
    ctx.call_on_close(session.close)


app.add_typer(admin_brands.brands, name="brands")
app.add_typer(admin_brands.certificates, name="certificates")
app.add_typer(admin_brands.platform_keys, name="platform-keys")
app.add_typer(admin_brands.appids, name="appids")
app.command("permission")(admin_brands.permission)
app.command("signtest")(admin_brands.signtest)
app.command("requests")(admin_brands.requests)
app.add_typer(admin_brands.faults, name="faults", no_args_is_help=True)
app.add_typer(admin_packages.packages, name="packages")
app.add_typer(admin_packages.members, name="members")
app.add_typer(admin_packages.users, name="users")
app.add_typer(admin_packages.clock, name="clock")
app.command("reset")(admin_reset.reset)
