"""Showing progress a person can trust: bytes sent in MiB, and what a wait is waiting for."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from userpkg.cli.output import say

MIB = 1024 * 1024
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size / MIB:.2f} MiB"


def parse_duration(text: str) -> float:
    """`90`, `30s`, `5m`, `2h`, `1d` → seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not found:
        raise ValueError(f"--timeout {text!r}: give a duration such as 30s, 5m, 2h or 1d")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def took(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@contextmanager
def progress(total: int, label: str, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar in MiB on a terminal; a line per MiB-step otherwise (logs, CI, pipes)."""
    if quiet:
        yield lambda _n: None
        return
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    done = [0, -1]

    def advance(n: int) -> None:
        done[0] += n
        step = done[0] * 10 // max(total, 1)
        if step != done[1]:
            done[1] = step
            say(f"{label}: {mib(done[0])} of {mib(total)} sent")

    yield advance


class WaitDisplay:
    """Each poll of a wait: the state, the effective time the service named, the time waited."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = ""
        self.printed_at = 0.0
        self.open_line = False

    def __call__(self, answer: Any, waited: float) -> None:
        from userpkg.client.uploads import effective_time

        if self.quiet:
            return
        when = effective_time(answer.return_message)
        status = answer.state.removeprefix("USER_PACKAGE_PROCESS_STATE_")
        shown_when = when and not answer.is_final  # a final message says it in its own words
        line = f"{self.label}: {status}" + (f", takes effect at {when}" if shown_when else "")
        shown = f"{line}, waited {took(waited)}"
        if answer.is_final:
            shown += f": {answer.return_message}"
        if self.tty:
            print(f"\r\x1b[2K{shown}", end="" if not answer.is_final else "\n", file=sys.stderr)
            sys.stderr.flush()
            self.open_line = not answer.is_final
        elif line != self.last or time.monotonic() - self.printed_at > 60:
            say(shown)
            self.printed_at = time.monotonic()
        self.last = line

    def close(self) -> None:
        if self.open_line:
            print(file=sys.stderr)
            self.open_line = False
