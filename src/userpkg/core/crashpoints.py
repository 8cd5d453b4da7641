"""Crash points for the crash tests: `USERPKG_CRASH_AT=<name>` kills the process right there.

The tests SIGKILL a worker between every two steps of a task and check that a restart gives
exactly the same result; the process kills itself so the moment is exact, not a race.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("USERPKG_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
