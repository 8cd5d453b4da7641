"""The brand-side commands that talk to the service: upload, expand, push (SPEC §9).

Heavy imports (the client, pydantic, numpy) happen inside the commands, so that
`userpkg --version`, `-h` and completion start fast.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from userpkg.cli.output import JsonFlag, Refused, emit, exit_codes, say
from userpkg.cli.waiting import WaitDisplay, mib, parse_duration, progress

if TYPE_CHECKING:
    from userpkg.client.client import BrandClient
    from userpkg.client.lint import LintReport
    from userpkg.protocol import DataType, PackageType

MAX_FILE_BYTES = 20 * 1024 * 1024


class DataTypeName(StrEnum):
    openid = "openid"
    md5_phone = "md5-phone"

    @property
    def wire(self) -> DataType:
        from userpkg.protocol import DataType

        return DataType.OPENID if self is DataTypeName.openid else DataType.MD5_PHONE


class PackageTypeName(StrEnum):
    targeted_exposure = "targeted-exposure"
    risk_user = "risk-user"

    @property
    def wire(self) -> PackageType:
        from userpkg.protocol import PackageType

        return (
            PackageType.TARGETED_EXPOSURE
            if self is PackageTypeName.targeted_exposure
            else PackageType.RISK_USER
        )


Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="credentials.toml (else ./credentials.toml, else "
        "$XDG_CONFIG_HOME/userpkg/credentials.toml; USERPKG_* fill what it leaves out).",
        show_default=False,
    ),
]
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
DataTypeOption = Annotated[DataTypeName, typer.Option(help="What the lines are.")]
Force = Annotated[bool, typer.Option("--force", help="Send even a file that lint refuses.")]
MaxMalformed = Annotated[
    float,
    typer.Option(
        "--max-malformed", metavar="PCT", help="Refuse over this % of malformed non-blank lines."
    ),
]
Timeout = Annotated[
    str | None,
    typer.Option("--timeout", metavar="DURATION", help="Stop waiting after 30s, 5m, 2h… (exit 1)."),
]


def client(config: Path | None) -> BrandClient:
    from userpkg.client.client import BrandClient
    from userpkg.client.credentials import Credentials

    return BrandClient(Credentials.resolve(config))


def check_description(text: str) -> None:
    from userpkg.client.uploads import description_problem

    problem = description_problem(text)
    if problem is not None:
        raise Refused(f"--{problem}")


def linted(
    file: Path, data_type: DataTypeName, max_malformed: float, force: bool, quiet: bool
) -> LintReport:
    """The lint check `push` and `upload` run before sending anything."""
    from userpkg.client.lint import check_file

    report = check_file(file, data_type.wire, max_malformed)
    if not quiet:
        c = report.counts
        say(
            f"lint: lines {c['lines']}, blank {c['blank']}, malformed {c['malformed']}, "
            f"duplicates {c['duplicates']}, well-formed {report.well_formed}"
        )
        show_offences(report)
    if report.problem is not None:
        if not force:
            raise Refused(
                f"{file}: {report.problem}; nothing was sent (fix the file, or --force)",
                {"lint": report.as_json()},
            )
        say(f"warning: {report.problem}; sending anyway (--force)")
    return report


def show_offences(report: LintReport) -> None:
    for offence in report.offences:
        say(f"  line {offence.line}: {offence.reason}")
    for hint in report.hints:
        say(f"hint: {hint}")


def upload(
    file: ExistingFile,
    data_type: DataTypeOption,
    package_type: Annotated[PackageTypeName, typer.Option(help="The package's type.")],
    description: Annotated[str, typer.Option(help="15 to 128 characters.")],
    max_malformed: MaxMalformed = 5.0,
    force: Force = False,
    config: Config = None,
    as_json: JsonFlag = False,
) -> None:
    """Upload a CSV file (init, parts in parallel, merge) and print its upload_id."""
    from userpkg.client.digests import file_digest
    from userpkg.client.journal import Journal, Piece
    from userpkg.client.uploads import Uploader

    with exit_codes(as_json):
        check_description(description)
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise Refused(
                f"{file} is {mib(size)}, over the service's {mib(MAX_FILE_BYTES)}: "
                "`userpkg push` splits it"
            )
        report = linted(file, data_type, max_malformed, force, as_json)
        with client(config) as brand:
            with progress(size, "upload", as_json) as advance:
                upload_id = Uploader(brand).upload_file(
                    file, data_type.wire, package_type.wire, description, progress=advance
                )
            creds = brand.credentials
            Journal().new(
                base_url=creds.base_url,
                brand_id=creds.brand_id,
                user_package_id=None,
                file=str(file.resolve()),
                file_digest=file_digest(file)[0],
                file_size=size,
                data_type=data_type.wire.value,
                package_type=package_type.wire.value,
                pieces=[Piece(1, 0, size, upload_id)],
                kind="upload",
            )
        if as_json:
            emit({"ok": True, "upload_id": upload_id, "lint": report.as_json()})
        else:
            typer.echo(upload_id)


def expand(
    user_package_id: str,
    upload_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until the state is final.")] = False,
    timeout: Timeout = None,
    config: Config = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask for an expand (or its current state) and print the state."""
    from userpkg.client.journal import Journal, now
    from userpkg.client.uploads import Uploader, effective_time

    with exit_codes(as_json):
        limit = parse_duration(timeout) if timeout else None
        with client(config) as brand:
            display = WaitDisplay(f"expand {upload_id[:16]}", as_json)
            try:
                answer = (
                    Uploader(brand).wait(user_package_id, upload_id, timeout=limit, on_poll=display)
                    if wait
                    else brand.expand(user_package_id, upload_id)
                )
            finally:
                display.close()
        journal = Journal()
        known = journal.find_upload(upload_id)
        if known is not None:
            push, piece = known
            push.user_package_id = push.user_package_id or user_package_id
            piece.state, piece.return_message, piece.checked_at = (
                answer.state,
                answer.return_message,
                now(),
            )
            journal.save(push)
        if as_json:
            emit(
                {
                    "ok": not answer.state.endswith("FAILED"),
                    "user_package_id": user_package_id,
                    "upload_id": upload_id,
                    "state": answer.state,
                    "return_message": answer.return_message,
                    "effective_time": effective_time(answer.return_message),
                }
            )
        else:
            typer.echo(answer.state)
            say(answer.return_message)
        if answer.state.endswith("FAILED"):
            raise typer.Exit(1)


def push(
    user_package_id: str,
    file: ExistingFile,
    data_type: DataTypeOption,
    package_type: Annotated[
        PackageTypeName, typer.Option(help="The package's type.")
    ] = PackageTypeName.targeted_exposure,
    description: Annotated[str | None, typer.Option(help="15 to 128 characters.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until every expand is final.")] = False,
    timeout: Timeout = None,
    again: Annotated[
        bool, typer.Option("--again", help="Push a file this machine already pushed here.")
    ] = False,
    max_malformed: MaxMalformed = 5.0,
    force: Force = False,
    max_bytes: Annotated[
        int, typer.Option(hidden=True, help="Largest upload (the service's limit).")
    ] = MAX_FILE_BYTES,
    config: Config = None,
    as_json: JsonFlag = False,
) -> None:
    """Lint, split into uploads of at most 20 MiB, upload and expand each; resumable."""
    from userpkg.client.journal import Piece, Push
    from userpkg.client.uploads import Uploader, check_package_id, split_points

    text = description or f"pushed by userpkg from {file.name[:60]} on {date.today().isoformat()}"
    with exit_codes(as_json):
        check_description(text)
        check_package_id(user_package_id)
        limit = parse_duration(timeout) if timeout else None
        report = linted(file, data_type, max_malformed, force, as_json)
        pieces: dict[int, Any] = {}

        def on_piece(push: Push, piece: Piece, what: str) -> None:
            total = len(push.pieces)
            pieces[piece.number] = piece
            if as_json:
                return
            verb = "already expanded, skipped" if what == "skipped" else "expand requested"
            say(
                f"piece {piece.number}/{total} ({mib(piece.length)}) {piece.upload_id}: {verb}, "
                f"{piece.state}: {piece.return_message}"
            )

        count = len(split_points(file, max_bytes))
        if count > 1 and not as_json:
            say(f"{file.name} is {mib(file.stat().st_size)}: {count} uploads, labelled i/{count}")
        with client(config) as brand:
            uploader = Uploader(brand)
            with progress(file.stat().st_size, "push", as_json) as advance:
                result = uploader.push(
                    user_package_id,
                    file,
                    data_type.wire,
                    package_type.wire,
                    text,
                    again=again,
                    max_bytes=max_bytes,
                    progress=advance,
                    on_piece=on_piece,
                )
            if result.resumed and not as_json:
                say(f"resumed push {result.push.push_id} (started {result.push.started_at})")
            if wait:
                wait_for(uploader, result.push, limit, as_json)
        done = result.push
        if as_json:
            emit(
                {
                    "ok": result.ok,
                    "push_id": done.push_id,
                    "resumed": result.resumed,
                    "user_package_id": user_package_id,
                    "file": done.file,
                    "lint": report.as_json(),
                    "pieces": [p.__dict__ for p in done.pieces],
                }
            )
        else:
            for piece in done.pieces:
                typer.echo(f"{piece.upload_id} {piece.state}")
        if not result.ok:
            raise typer.Exit(1)


def wait_for(uploader: Any, push: Any, limit: float | None, quiet: bool) -> None:
    """Wait for each piece in turn, showing state, effective time and time waited."""
    import time

    from userpkg.client.journal import Journal, now

    journal = Journal()
    started = time.monotonic()
    total = len(push.pieces)
    for piece in push.pieces:
        left = None if limit is None else max(0.0, limit - (time.monotonic() - started))
        display = WaitDisplay(f"piece {piece.number}/{total}", quiet)
        try:
            final = uploader.wait(
                push.user_package_id, str(piece.upload_id), timeout=left, on_poll=display
            )
        finally:
            display.close()
        piece.state, piece.return_message, piece.checked_at = (
            final.state,
            final.return_message,
            now(),
        )
        journal.save(push)
