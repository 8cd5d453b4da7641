"""`userpkg --version` start-up beside `python -c "import httpx, cryptography"`, same run.

Goal: the CLI starts within 2.5x of merely importing the client's two libraries: the brand
commands never load the server stack (FastAPI, uvicorn, SQLAlchemy). Also shown: `lint -h`.
Run: `.venv/bin/python benchmarks/cli_startup.py` (or `make bench`).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

GOAL = 2.5
RUNS = 15


def median_seconds(args: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    python = sys.executable
    baseline = median_seconds([python, "-c", "import httpx, cryptography"])
    version = median_seconds([python, "-m", "userpkg", "--version"])
    help_lint = median_seconds([python, "-m", "userpkg", "lint", "-h"])
    ratio = version / baseline
    mark = "✓" if ratio <= GOAL else "✗"
    print(f"python -c 'import httpx, cryptography': {baseline * 1000:.0f} ms (median of {RUNS})")
    print(f"userpkg --version: {version * 1000:.0f} ms; userpkg lint -h: {help_lint * 1000:.0f} ms")
    print(f"{mark} userpkg --version is {ratio:.2f}x the baseline (goal ≤ {GOAL}x)")


if __name__ == "__main__":
    main()
