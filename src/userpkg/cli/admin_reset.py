"""`userpkg admin reset`: a sandbox back to its freshly provisioned state between test runs."""

from __future__ import annotations

import typer

from userpkg.cli.operator_session import Json, emit, operator_call


def reset(ctx: typer.Context, json_out: Json = False) -> None:
    """Empty every package; forget uploads, tasks, fault rules and the request log (sandbox
    only). The brand, its keys, appids, users and package ids stay, so credentials still work."""
    with operator_call(ctx) as api:
        emit(ctx, api.reset())
