"""Where nonces and rate buckets should live when several API processes share them.

Per operation, in one run: the nonce claim and the rate-bucket take as userpkg runs them on
PostgreSQL and on SQLite, beside a Redis `SET key 1 NX EX 600` (the cheapest way Redis could
record a nonce), spoken over a plain socket so no Redis client library is needed. The
numbers behind the choice written down in docs/deployment.md.
Run: `.venv/bin/python benchmarks/shared_state.py --postgres URL [--redis HOST:PORT]`.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
from userpkg.core.ratelimit import SharedRateLimiter
from userpkg.core.replay import ReplayGuard
from userpkg.store.database import Database, sqlite_url

COUNT = 3000


def micros(operation: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(COUNT):
        operation()
    return (time.perf_counter() - started) / COUNT * 1e6


def redis_set_nx(host: str, port: int) -> Callable[[], object]:
    sock = socket.create_connection((host, port), timeout=5)
    reader = sock.makefile("rb")

    def claim() -> object:
        key = f"nonce:b:{secrets.token_hex(16)}"
        parts = [b"SET", key.encode(), b"1", b"NX", b"EX", b"600"]
        sock.sendall(
            b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        )
        reply = reader.readline()
        assert reply == b"+OK\r\n", reply
        return reply

    return claim


def database_ops(url: str) -> tuple[float, float]:
    db = Database(url)
    db.migrate()
    guard = ReplayGuard(db, 600)
    limiter = SharedRateLimiter(db, rate=1e9, burst=10**9)
    nonce = micros(lambda: guard.remember("bench", secrets.token_hex(16)))
    bucket = micros(lambda: limiter.take("bench", "expand"))
    db.dispose()
    return nonce, bucket


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True, help="an empty PostgreSQL database URL")
    parser.add_argument("--redis", default="127.0.0.1:6379", help="HOST:PORT, or '' to skip")
    args = parser.parse_args()
    rows = {"PostgreSQL": database_ops(args.postgres)}
    with tempfile.TemporaryDirectory() as tmp:
        rows["SQLite"] = database_ops(sqlite_url(Path(tmp)))
    print(
        f"{'store':12} {'nonce claim':>12} {'rate bucket':>12}   (µs per operation, {COUNT} each)"
    )
    for name, (nonce, bucket) in rows.items():
        print(f"{name:12} {nonce:12.0f} {bucket:12.0f}")
    if args.redis:
        host, _, port = args.redis.partition(":")
        try:
            claim = redis_set_nx(host, int(port or 6379))
        except OSError as exc:
            print(f"Redis at {args.redis}: not reachable ({exc})")
            return
        print(f"{'Redis':12} {micros(claim):12.0f} {'—':>12}   (SET NX EX over a socket)")


if __name__ == "__main__":
    main()
