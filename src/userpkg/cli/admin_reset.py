"""`userpkg admin reset`: a sandbox back to its freshly provisioned state between test runs."""

from __future__ import annotations

from typing import Any

import typer

from userpkg.cli.operator_session import Json, emit, operator_call, out


def reset(ctx: typer.Context, json_out: Json = False) -> None:
    """Empty every package; forget uploads, tasks, fault rules and the request log (sandbox
    only). The brand, its keys, appids, users and package ids stay, so credentials still work."""
    with operator_call(ctx) as api:
        emit(ctx, api.reset(), _summary)


def _summary(answer: dict[str, Any]) -> None:
    done = answer["reset"]
    out.print(
        f"sandbox reset: {_count(done['packages'], 'package')} emptied, "
        f"{_count(done['uploads'], 'upload')} and {_count(done['tasks'], 'task')} forgotten; "
        "fault rules, the request log and the clock offset cleared"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
