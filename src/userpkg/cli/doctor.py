"""`userpkg doctor` and `userpkg status`: is this machine set up, and what did it push?"""

from __future__ import annotations

from typing import Annotated

import typer

from userpkg.cli.brand import Config
from userpkg.cli.output import JsonFlag, emit, exit_codes, say


def doctor(config: Config = None, as_json: JsonFlag = False) -> None:
    """Check the credentials, key files, host, signatures and clock; say what to change."""
    from userpkg.client.credentials import Credentials
    from userpkg.client.doctor import examine, sources

    with exit_codes(as_json):
        creds = Credentials.resolve(config)
        shown = sources(creds)
        checks = examine(creds)
        ok = all(c.ok for c in checks)
        if as_json:
            emit({"ok": ok, "values": shown, "checks": [c.as_json() for c in checks]})
        else:
            typer.echo("credentials (where each value came from):")
            for name, item in shown.items():
                typer.echo(f"  {name} = {item['value']}  ({item['source']})")
            for check in checks:
                typer.echo(f"{'✓' if check.ok else '✗'} {check.name}: {check.detail}")
                if check.fix:
                    typer.echo(f"    fix: {check.fix}")
            say("all checks passed" if ok else "some checks failed: fix the ✗ lines above")
        if not ok:
            raise typer.Exit(1)


def status(
    config: Config = None,
    refresh: Annotated[
        bool, typer.Option(help="Ask the service for each expand's current state.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """List what this machine uploaded and pushed, refreshing each expand's state."""
    from userpkg.cli.brand import client
    from userpkg.client.errors import ApiError, TransportFailure
    from userpkg.client.journal import Journal, now, state_home

    unreachable = None
    with exit_codes(as_json):
        journal = Journal()
        with client(config) as brand:
            creds = brand.credentials
            mine = [
                p
                for p in journal.all()
                if (p.base_url, p.brand_id) == (creds.base_url, creds.brand_id)
            ]
            for entry in mine:
                for piece in entry.pieces:
                    if not (refresh and entry.user_package_id and piece.upload_id) or unreachable:
                        continue
                    try:
                        answer = brand.expand(entry.user_package_id, piece.upload_id)
                    except ApiError as exc:
                        piece.return_message = f"{exc.code}: {exc.message}"
                        continue
                    except TransportFailure as exc:
                        unreachable = f"{exc}; the states below are the ones last seen"
                        continue
                    piece.state, piece.return_message = answer.state, answer.return_message
                    piece.checked_at = now()
                journal.save(entry)
        if as_json:
            document = {"journal": str(state_home()), "entries": [e.as_json() for e in mine]}
            emit(document if unreachable is None else {**document, "warning": unreachable})
            return
        if unreachable is not None:
            say(f"warning: {unreachable}")
        if not mine:
            say(f"nothing pushed to {creds.base_url} as brand {creds.brand_id} from this machine")
        for entry in mine:
            target = entry.user_package_id or "(not expanded)"
            typer.echo(
                f"{entry.started_at} {entry.kind} {entry.push_id} {entry.file} → {target} "
                f"({len(entry.pieces)} upload{'s' if len(entry.pieces) > 1 else ''})"
            )
            for piece in entry.pieces:
                state = (piece.state or "not expanded").removeprefix("USER_PACKAGE_PROCESS_STATE_")
                typer.echo(
                    f"  {piece.number}/{len(entry.pieces)} {piece.upload_id} {state}: "
                    f"{piece.return_message or ''}"
                )
