"""Explicit users: a file of 10 M phone numbers streamed to `POST /admin/v1/users/import`.

The file has 1 % numbers repeated within it and 100,000 numbers the service already knows
(imported first), so the counts it answers are checked, not only the time. Goal: under 60 s
on SQLite and on PostgreSQL, with the server's memory bounded (its peak RSS is printed).
Run: `.venv/bin/python benchmarks/users_import.py [--numbers N] [--postgres URL]`; the URL
names a server where the benchmark may create and drop a database of its own.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.processes import ServiceProcess

from userpkg.client.operator import OperatorClient

KNOWN = 100_000
GOAL_SECONDS = 60.0


def numbers_file(path: Path, count: int) -> tuple[float, dict[str, int]]:
    """Write `count` lines of mobile numbers, 1 % of them repeats, and `known.csv`: its first
    100,000 lines, imported before it. An affine map of 0..n-1 over the 6.9·10^9 numbers from
    13000000000 (below the sandbox's 199 block) gives distinct, scattered numbers without a
    set. Returns the seconds the files took, and the counts the import must answer (worked out
    here with numpy)."""
    started = time.perf_counter()
    repeats = count // 100
    distinct = count - repeats
    index = np.arange(distinct, dtype=np.int64)
    phones = 13_000_000_000 + (index * 2_654_435_761 + 12_345) % 6_900_000_000
    rng = np.random.default_rng(13)
    lines = np.concatenate([phones, phones[rng.integers(0, distinct, repeats)]])
    rng.shuffle(lines)
    grid = np.empty((len(lines), 12), dtype=np.uint8)
    rest = lines.copy()
    for column in range(10, -1, -1):
        grid[:, column] = rest % 10 + 48
        rest //= 10
    grid[:, 11] = 10
    path.write_bytes(grid.tobytes())
    known = path.with_name("known.csv")
    known.write_bytes(grid[:KNOWN].tobytes())
    seconds = time.perf_counter() - started
    before = np.isin(lines, lines[:KNOWN])
    rest = np.sort(lines[~before])
    new = int(np.count_nonzero(rest[1:] != rest[:-1])) + 1 if len(rest) else 0
    return seconds, {
        "lines": count,
        "imported": new,
        "duplicates": len(rest) - new,
        "already_known": int(before.sum()),
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(label: str, count: int, db_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        made, expected = numbers_file(root / "numbers.csv", count)
        args = ["serve", "--sandbox", "--data", str(root / "data"), "--log-level", "WARNING"]
        service = ServiceProcess(args + (["--db", db_url] if db_url else []), root / "serve.log")
        try:
            service.wait_healthy()
            manifest = json.loads((root / "data" / "sandbox" / "sandbox.json").read_text())
            with OperatorClient(manifest["base_url"], manifest["admin_token"]) as client:
                client.import_users(root / "known.csv")
                rss_before = peak_rss_mb(service.proc.pid)
                started = time.perf_counter()
                report = client.import_users(root / "numbers.csv")
                seconds = time.perf_counter() - started
                rss = peak_rss_mb(service.proc.pid)
        finally:
            service.stop()
    assert {k: report[k] for k in expected} == expected, (report, expected)
    mark = "✓" if seconds < GOAL_SECONDS else "✗"
    print(f"{label}: import {count:,} numbers (file made in {made:.1f} s with numpy)")
    print(
        f"  {seconds:6.1f} s -> {count / seconds / 1e6:.2f} M numbers/s; imported "
        f"{report['imported']:,}, duplicates {report['duplicates']:,}, already known "
        f"{report['already_known']:,}   goal < {GOAL_SECONDS:.0f} s {mark}"
    )
    print(
        f"  server peak RSS {rss:.0f} MB (before the import: {rss_before:.0f} MB); "
        f"the file is {count * 12 / 1e6:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=10_000_000)
    parser.add_argument("--postgres", help="also on PostgreSQL: a server URL (a database is made)")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL run")
    args = parser.parse_args()
    if not args.skip_sqlite:
        run("SQLite", args.numbers, None)
    if args.postgres:
        admin = make_url(args.postgres).set(drivername="postgresql")
        name = f"userpkg_bench_{secrets.token_hex(4)}"
        dsn = admin.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run("PostgreSQL", args.numbers, admin.set(database=name).render_as_string(False))
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
