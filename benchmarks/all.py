"""Run every benchmark of `make bench` and end with one line per goal, ✓ or ✗.

Each benchmark prints its own numbers beside a baseline measured in the same run; a line
that states a goal carries ✓ or ✗, and this runner gathers those lines so that one screen
says which goals this machine met. Run: `.venv/bin/python benchmarks/all.py [--postgres URL]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = (
    ("protocol", []),
    ("api", []),
    ("ingest", []),
    ("upload", []),
    ("cli_startup", []),
    ("users_import", ["postgres"]),
)


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{platform.node()}: {os.cpu_count()} cores, {model}; load average {load}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="also run the PostgreSQL cases against this URL")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    goals: list[tuple[str, str]] = []
    failed: list[str] = []
    for name, options in BENCHMARKS:
        command = [sys.executable, str(HERE / f"{name}.py")]
        if "postgres" in options and args.postgres:
            command += ["--postgres", args.postgres]
        print(f"\n== {name}.py", flush=True)
        started = time.monotonic()
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                if "✓" in line or "✗" in line:
                    goals.append((name, line.strip()))
        if proc.returncode != 0:
            failed.append(f"{name}.py exited {proc.returncode}")
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"\n== goals ({machine()})")
    for name, line in goals:
        print(f"{'✗' if '✗' in line else '✓'} {name:12} {line}")
    for problem in failed:
        print(f"✗ {problem}")
    met = sum("✗" not in line for _, line in goals)
    print(f"{met} of {len(goals)} goal lines met" + (f"; {len(failed)} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
