"""The offline commands on audience files: lint and hash-phones (SPEC §9)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from userpkg.cli.brand import DataTypeOption, ExistingFile, MaxMalformed, show_offences
from userpkg.cli.output import JsonFlag, Refused, emit, exit_codes, say


def lint(
    file: ExistingFile,
    data_type: DataTypeOption,
    max_malformed: MaxMalformed = 5.0,
    as_json: JsonFlag = False,
) -> None:
    """Count lines as the service would (lines, blank, malformed, duplicates); exit 2 if the
    service would take nothing or over --max-malformed % of non-blank lines are malformed."""
    from userpkg.client.lint import check_file

    with exit_codes(as_json):
        report = check_file(file, data_type.wire, max_malformed)
        if as_json:
            emit({"file": str(file), "data_type": data_type.value, **report.as_json()})
        else:
            for key, value in report.counts.items():
                typer.echo(f"{key} {value}")
            typer.echo(f"well-formed {report.well_formed}")
            show_offences(report)
        if report.problem is not None:
            if not as_json:
                say(f"error: {file}: {report.problem}")
            raise typer.Exit(2)


def hash_phones_command(
    source: Annotated[Path, typer.Argument(metavar="IN", help="Raw numbers, or - for stdin.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="MD5s, or - for stdout.")],
    column: Annotated[
        int, typer.Option("--column", min=1, help="CSV column holding the number (1-based).")
    ] = 1,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Write rejected lines here (line number, tab, line)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Normalise raw phone numbers (spaces, dashes, dots, +86/0086/(+86)) and write their MD5s."""
    from userpkg.client.phones import STDIO, hash_phones

    with exit_codes(as_json):
        if source != STDIO and not source.is_file():
            raise Refused(f"IN {source}: no such file")
        if as_json and target == STDIO:
            raise Refused("--json prints on stdout: give OUT as a file, not -")
        counts = hash_phones(source, target, column=column, rejects=rejects)
        document = {
            "hashed": counts.hashed,
            "blank": counts.blank,
            "rejected": counts.bad,
            "first_rejected_lines": counts.rejected_lines,
            "out": str(target),
            "rejects": None if rejects is None else str(rejects),
        }
        if as_json:
            emit(document)
            return
        say(f"hashed {counts.hashed}, blank {counts.blank}, not a mobile number {counts.bad}")
        if counts.bad:
            shown = ", ".join(map(str, counts.rejected_lines))
            more = " …" if counts.bad > len(counts.rejected_lines) else ""
            say(
                f"rejected lines: {shown}{more}"
                + ("" if rejects else " (--rejects FILE writes them all)")
            )
            if counts.columns_rejected:
                say(
                    "hint: rejected lines have several columns and the number is read from the "
                    "first: pass --column N for the column that holds it"
                )
