"""`userpkg serve`: run the service (and, with --sandbox, provision a playground first).

The server stack (FastAPI, uvicorn, SQLAlchemy) is imported inside the command, so that the
brand commands, which share this entry point, never pay for it.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from userpkg.core.settings import SyncDelay

SANDBOX_USERS = 10_000  # server.sandbox.DEFAULT_USERS, without importing the server
# server.connections.ConnectionLimits' defaults, without importing uvicorn
HEADER_TIMEOUT, BODY_TIMEOUT, MAX_CONNECTIONS = 10.0, 30.0, 2048


def port_taken(host: str, port: int) -> str | None:
    """Why (host, port) cannot be listened on, before anything is printed or provisioned."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"{host}:{port} is already in use (address already in use)"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def _delay(value: str | None, sandbox_mode: bool) -> SyncDelay:
    from userpkg.core.settings import SyncDelay

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
    sandbox_users: Annotated[int, typer.Option(help="Users the sandbox creates.")] = SANDBOX_USERS,
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
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a client has to send the request headers.")
    ] = HEADER_TIMEOUT,
    body_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a request body may stall before it is dropped.")
    ] = BODY_TIMEOUT,
    max_connections: Annotated[
        int, typer.Option(min=1, help="Open connections per API process; more are closed at once.")
    ] = MAX_CONNECTIONS,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults", help="Allow fault rules (/admin/v1/brands/…/faults) outside a sandbox."
        ),
    ] = False,
) -> None:
    """Run the service: the brand API, the operator API and (unless told not to) task processing."""
    taken = port_taken(host, port)
    if taken is not None:
        typer.echo(
            f"error: {taken}: stop what is listening there, or choose another --port", err=True
        )
        raise typer.Exit(2)
    from userpkg.core.service import Service
    from userpkg.core.settings import Settings
    from userpkg.server import sandbox
    from userpkg.server.connections import ConnectionLimits
    from userpkg.server.logs import setup_logging
    from userpkg.server.serving import run

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
    limits = ConnectionLimits(
        header_timeout=header_timeout, body_timeout=body_timeout, max_connections=max_connections
    )
    run(settings, host, port, workers, log_level, limits)
