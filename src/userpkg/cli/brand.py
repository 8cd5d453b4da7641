"""The brand-side commands: upload, expand, push, lint, hash-phones (SPEC §9).

Exit status: 0 success; 1 the API answered an error (or never answered); 2 bad usage or
local input; 3 a response failed signature verification.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from userpkg.client.client import BrandClient
from userpkg.client.credentials import Credentials, CredentialsError
from userpkg.client.errors import ApiError, SignatureError, TransportFailure
from userpkg.client.phones import hash_phones
from userpkg.client.uploads import MAX_FILE_BYTES, Uploader, lint_file
from userpkg.protocol import DataType, PackageType

err = Console(stderr=True)


class DataTypeName(StrEnum):
    openid = "openid"
    md5_phone = "md5-phone"

    @property
    def wire(self) -> DataType:
        return DataType.OPENID if self is DataTypeName.openid else DataType.MD5_PHONE


class PackageTypeName(StrEnum):
    targeted_exposure = "targeted-exposure"
    risk_user = "risk-user"

    @property
    def wire(self) -> PackageType:
        return (
            PackageType.TARGETED_EXPOSURE
            if self is PackageTypeName.targeted_exposure
            else PackageType.RISK_USER
        )


Config = Annotated[
    Path | None,
    typer.Option(
        "--config", help="credentials.toml (else USERPKG_* variables).", show_default=False
    ),
]
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


@contextmanager
def exit_codes() -> Iterator[None]:
    """Map failures to the documented exit statuses, with one clear line each."""
    try:
        yield
    except ApiError as exc:
        err.print(f"[red]error[/red] {exc.status} {exc.code}: {exc.message}", highlight=False)
        err.print(f"Request-ID: {exc.request_id}", highlight=False)
        raise typer.Exit(1) from None
    except TransportFailure as exc:
        err.print(f"[red]error[/red] no answer from the service: {exc}", highlight=False)
        raise typer.Exit(1) from None
    except SignatureError as exc:
        err.print(f"[red]response failed verification[/red]: {exc.reason}", highlight=False)
        err.print(f"Request-ID: {exc.request_id}", highlight=False)
        raise typer.Exit(3) from None
    except (CredentialsError, OSError, ValueError) as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _client(config: Path | None) -> BrandClient:
    return BrandClient(Credentials.resolve(config))


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; plain lines otherwise (logs, CI, pipes)."""
    if sys.stderr.isatty():
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        err.print(f"{label}: {done[0]}/{total} bytes", highlight=False)

    yield advance


def upload(
    file: ExistingFile,
    data_type: Annotated[DataTypeName, typer.Option(help="What the lines are.")],
    package_type: Annotated[PackageTypeName, typer.Option(help="The package's type.")],
    description: Annotated[str, typer.Option(help="15 to 128 characters.")],
    config: Config = None,
) -> None:
    """Upload a CSV file (init, parts in parallel, merge) and print its upload_id."""
    with exit_codes(), _client(config) as client:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{file} is over {MAX_FILE_BYTES} bytes; `userpkg push` splits it")
        with _progress(file.stat().st_size, "upload") as progress:
            upload_id = Uploader(client).upload_file(
                file, data_type.wire, package_type.wire, description, progress=progress
            )
        typer.echo(upload_id)


def expand(
    user_package_id: str,
    upload_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until the state is final.")] = False,
    config: Config = None,
) -> None:
    """Ask for an expand (or its current state) and print the state."""
    with exit_codes(), _client(config) as client:
        answer = (
            Uploader(client).wait(user_package_id, upload_id)
            if wait
            else client.expand(user_package_id, upload_id)
        )
        typer.echo(answer.state)
        err.print(answer.return_message, highlight=False)
        if answer.state.endswith("FAILED"):
            raise typer.Exit(1)


def push(
    user_package_id: str,
    file: ExistingFile,
    data_type: Annotated[DataTypeName, typer.Option(help="What the lines are.")],
    package_type: Annotated[
        PackageTypeName, typer.Option(help="The package's type.")
    ] = PackageTypeName.targeted_exposure,
    description: Annotated[str | None, typer.Option(help="15 to 128 characters.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until every expand is final.")] = False,
    max_bytes: Annotated[
        int, typer.Option(hidden=True, help="Largest upload (the service's limit).")
    ] = MAX_FILE_BYTES,
    config: Config = None,
) -> None:
    """Lint, split into uploads of at most 20 MiB, upload and expand each, show progress."""
    text = description or f"pushed by userpkg from {file.name[:60]} on {date.today().isoformat()}"
    with exit_codes(), _client(config) as client:
        counts = lint_file(file, data_type.wire)
        err.print(
            "lint: "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
            + f", well-formed {counts['lines'] - counts['blank'] - counts['malformed']}",
            highlight=False,
        )
        with _progress(file.stat().st_size, "push") as progress:
            result = Uploader(client).push(
                user_package_id,
                file,
                data_type.wire,
                package_type.wire,
                text,
                wait=wait,
                max_bytes=max_bytes,
                progress=progress,
            )
        for piece in result.pieces:
            typer.echo(f"{piece['upload_id']} {piece['state']}")
            err.print(f"  {piece['return_message']}", highlight=False)
        if not result.ok:
            raise typer.Exit(1)


def lint(
    file: ExistingFile,
    data_type: Annotated[DataTypeName, typer.Option(help="What the lines are.")],
) -> None:
    """Count lines as the service would for format: lines, blank, malformed, duplicates."""
    with exit_codes():
        for key, value in lint_file(file, data_type.wire).items():
            typer.echo(f"{key} {value}")


def hash_phones_command(
    source: ExistingFile,
    target: Annotated[Path, typer.Argument(dir_okay=False)],
) -> None:
    """Normalise raw phone numbers (spaces, dashes, +86) and write one MD5 per line."""
    with exit_codes():
        counts = hash_phones(source, target)
        err.print(
            f"hashed {counts.hashed}, blank {counts.blank}, not a mobile number {counts.bad}",
            highlight=False,
        )
