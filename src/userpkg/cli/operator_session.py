"""Where `userpkg admin` finds the service and its token, and how it prints what it got.

The URL and token come from `--url`/`--token`, then `USERPKG_ADMIN_URL`/`USERPKG_ADMIN_TOKEN`,
then a sandbox manifest (`--manifest`, else ./userpkg-data/sandbox/sandbox.json), then
./userpkg-data/admin-token beside the default local service. Only client code is imported here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from userpkg.client.operator import OperatorClient, OperatorError

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_DATA = Path("userpkg-data")
PIPED_WIDTH = 400
"""Output into a pipe or file is laid out this wide, not rich's 80 columns, for grep and awk."""


class LazyConsole:
    """A rich console made on first print: `userpkg --version` should not pay for rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def print(self, *objects: Any, **options: Any) -> None:
        if self._console is None:
            from rich.console import Console

            console = Console(**self._options)
            if not console.is_terminal:
                console.width = PIPED_WIDTH
            self._console = console
        self._console.print(*objects, **options)


err = LazyConsole(stderr=True, highlight=False)
out = LazyConsole(highlight=False, soft_wrap=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@dataclass
class Session:
    url: str | None = None
    token: str | None = None
    manifest: Path | None = None
    json: bool = False
    _client: OperatorClient | None = field(default=None, repr=False)

    def client(self) -> OperatorClient:
        """The operator client, made on first use so `--help` needs no token."""
        if self._client is None:
            from userpkg.client.operator import OperatorClient

            url, token = self._resolve()
            self._client = OperatorClient(url, token)
        return self._client

    def _resolve(self) -> tuple[str, str]:
        url = self.url or os.environ.get("USERPKG_ADMIN_URL")
        token = self.token or os.environ.get("USERPKG_ADMIN_TOKEN")
        manifest = self.manifest or DEFAULT_DATA / "sandbox" / "sandbox.json"
        if (url is None or token is None) and manifest.is_file():
            try:
                values = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise usage(f"the manifest {manifest} could not be read: {exc}") from None
            url = url or values.get("base_url")
            token = token or values.get("admin_token")
        elif self.manifest is not None and not self.manifest.is_file():
            raise usage(f"no sandbox manifest at {self.manifest}; check --manifest")
        stored = DEFAULT_DATA / "admin-token"
        if token is None and stored.is_file():
            token = stored.read_text(encoding="ascii").strip()
        if not token:
            raise usage(
                "no operator token: pass --token, set USERPKG_ADMIN_TOKEN, or point --manifest "
                "at a sandbox's sandbox.json (a service keeps its token in DATA/admin-token)"
            )
        return url or DEFAULT_URL, token

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def usage(message: str) -> typer.Exit:
    err.print(f"[red]error[/red] {message}")
    return typer.Exit(2)


def session_of(ctx: typer.Context) -> Session:
    found = ctx.find_object(Session)
    if found is None:
        found = ctx.ensure_object(Session)
    return found


@contextmanager
def operator_call(ctx: typer.Context) -> Iterator[OperatorClient]:
    """The client for one command; an error answer prints code and message and exits 1."""
    from userpkg.client.operator import OperatorError

    session = session_of(ctx)
    try:
        yield session.client()
    except OperatorError as exc:
        if session.json or _json_asked(ctx):
            typer.echo(json.dumps({"error": _error_body(exc)}, ensure_ascii=False))
        if exc.status:
            err.print(f"[red]error[/red] {exc.status} {exc.code}: {exc.message}")
        else:
            err.print(f"[red]error[/red] {exc.message}")
        raise typer.Exit(1) from None


def _error_body(exc: OperatorError) -> dict[str, Any]:
    return {"status": exc.status, "code": exc.code, "message": exc.message}


def _json_asked(ctx: typer.Context) -> bool:
    return bool(ctx.params.get("json_out"))


def emit(ctx: typer.Context, data: Any, human: Callable[[Any], None] | None = None) -> None:
    """`--json`: the answer as one JSON document; otherwise `human` (or key: value lines)."""
    if session_of(ctx).json or _json_asked(ctx):
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    if human is not None:
        human(data)
    elif isinstance(data, dict):
        show_fields(data)
    else:
        out.print(str(data))


def show_fields(data: dict[str, Any]) -> None:
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        out.print(f"{key:<{width}}  {'-' if shown is None else shown}")


def show_table(rows: list[dict[str, Any]], columns: list[str], empty: str = "none") -> None:
    if not rows:
        out.print(empty)
        return
    from rich.table import Column, Table

    # Ids are copied from here: fold a long cell onto more lines rather than cut it.
    table = Table(*(Column(c, overflow="fold") for c in columns), box=None, pad_edge=False)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    out.print(table)


def _cell(value: Any) -> str:
    """A table cell: a mapping one `key: value` a line (a user's openids by appid)."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return "\n".join(f"{key}: {item}" for key, item in value.items()) or "-"
    return str(value)


def show_page(page: dict[str, Any], columns: list[str], noun: str) -> None:
    show_table(page["data"], columns, f"no {noun}")
    out.print(f"{len(page['data'])} of {page['total_count']} {noun}")
