"""Entry point of the `userpkg` command.

Command modules import only typer at load time; each command imports what it needs when it
runs, so `--version`, `-h` and completion stay fast and brand commands never load the server.
Another group of commands is one `app.add_typer(...)` line below.
"""

from __future__ import annotations

from typing import Annotated

import typer

from userpkg import __version__
from userpkg.cli import admin, brand, doctor, files
from userpkg.cli.serve import serve
from userpkg.cli.worker import worker

app = typer.Typer(
    name="userpkg",
    help="WeChat Pay Brand API user packages: run the service, or use it as a brand.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit


@app.callback()
def main(
    _show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """WeChat Pay Brand API user packages: run the service, or use it as a brand."""


app.command()(serve)
app.command()(worker)
app.command()(doctor.doctor)
app.command()(brand.upload)
app.command()(brand.expand)
app.command()(brand.push)
app.command()(doctor.status)
app.command()(files.lint)
app.command("hash-phones")(files.hash_phones_command)
app.add_typer(admin.app, name="admin")


@app.command()
def version() -> None:
    """Print the userpkg version."""
    typer.echo(__version__)
