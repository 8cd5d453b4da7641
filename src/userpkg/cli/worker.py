"""`userpkg worker`: process expand tasks only, beside API processes run with --no-processing."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer


def worker(
    data: Annotated[Path, typer.Option(help="Data directory (files; SQLite unless --db).")] = Path(
        "userpkg-data"
    ),
    db: Annotated[
        str | None, typer.Option(help="Database URL (default: SQLite in --data).")
    ] = None,
    lease_seconds: Annotated[
        int,
        typer.Option(
            min=1,
            help="How long a claimed task stays this worker's without a heartbeat (renewed "
            "every fifth of it); a worker that dies frees its task this long after.",
        ),
    ] = 10,
    blob_dir: Annotated[
        Path | None, typer.Option(help="The shared directory the API processes use, if any.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Process expand tasks (matching and data sync) without serving HTTP."""
    from userpkg.core.service import Service
    from userpkg.core.settings import Settings
    from userpkg.server.logs import setup_logging
    from userpkg.worker.loop import WorkerLoop

    setup_logging(log_level)
    service = Service(
        Settings(data_dir=data, db_url=db, lease_seconds=lease_seconds, blob_dir=blob_dir)
    )
    loop = WorkerLoop(service.processor)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        loop.run()
    finally:
        service.close()
