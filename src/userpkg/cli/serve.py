"""`userpkg serve`: run the service (and, with --sandbox, provision a playground first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from userpkg.core.service import Service
from userpkg.core.settings import Settings, SyncDelay
from userpkg.server import sandbox
from userpkg.server.logs import setup_logging
from userpkg.server.serving import run


def _delay(value: str | None, sandbox_mode: bool) -> SyncDelay:
    if value is None:
        return SyncDelay(seconds=0) if sandbox_mode else SyncDelay(days=2)
    try:
        return SyncDelay.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--sync-delay") from None


def serve(
    data: Annotated[Path, typer.Option(help="Data directory (SQLite database, files).")] = Path(
        "userpkg-data"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: Annotated[
        str | None, typer.Option(help="Database URL (default: SQLite inside --data).")
    ] = None,
    sync_delay: Annotated[
        str | None,
        typer.Option(help="When expands take effect: T+2, or a duration such as 0s, 30s, 5m."),
    ] = None,
    sandbox_mode: Annotated[
        bool, typer.Option("--sandbox", help="Provision and run a sandbox playground.")
    ] = False,
    sandbox_users: Annotated[int, typer.Option(help="Users the sandbox creates.")] = (
        sandbox.DEFAULT_USERS
    ),
    workers: Annotated[int, typer.Option(min=1, help="API processes.")] = 1,
    no_processing: Annotated[
        bool, typer.Option("--no-processing", help="Leave tasks to `userpkg worker` processes.")
    ] = False,
    rate_limit: Annotated[
        float, typer.Option(help="Brand API requests per second per brand and endpoint.")
    ] = 20.0,
    rate_burst: Annotated[int, typer.Option(help="Requests a brand may save up (burst).")] = 40,
    blob_dir: Annotated[
        Path | None,
        typer.Option(
            help="Shared directory for parts and files (default: the database on "
            "PostgreSQL, --data on SQLite)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    faults: Annotated[
        bool,
        typer.Option(
            "--faults", help="Allow fault rules (/admin/v1/brands/…/faults) outside a sandbox."
        ),
    ] = False,
) -> None:
    """Run the service: the brand API, the operator API and (unless told not to) task processing."""
    setup_logging(log_level)
    settings = Settings(
        data_dir=data,
        db_url=db,
        sandbox=sandbox_mode,
        sync_delay=_delay(sync_delay, sandbox_mode),
        admin_token=os.environ.get("USERPKG_ADMIN_TOKEN") or None,
        rate_per_second=rate_limit,
        rate_burst=rate_burst,
        processing=not no_processing,
        blob_dir=blob_dir,
        shared_limits=workers > 1,
        faults=faults,
    )
    if sandbox_mode:
        service = Service(settings)
        try:
            manifest = sandbox.provision(service, f"http://{host}:{port}", sandbox_users)
        finally:
            service.close()
        typer.echo(sandbox.banner(manifest))
    run(settings, host, port, workers, log_level)
