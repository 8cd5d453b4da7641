"""Entry point of the `userpkg` command."""

from __future__ import annotations

import typer

from userpkg import __version__
from userpkg.cli import admin, brand
from userpkg.cli.serve import serve
from userpkg.cli.worker import worker

app = typer.Typer(
    name="userpkg",
    help="WeChat Pay Brand API user packages: run the service, or use it as a brand.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve)
app.command()(worker)
app.command()(brand.upload)
app.command()(brand.expand)
app.command()(brand.push)
app.command()(brand.lint)
app.command("hash-phones")(brand.hash_phones_command)
app.add_typer(admin.app, name="admin")


@app.command()
def version() -> None:
    """Print the userpkg version."""
    typer.echo(__version__)
