"""The client's speed: a 20 MiB upload to the local service, and hash-phones on 1 M numbers.

Baselines measured in the same run: a single-threaded upload of the same parts with plain
httpx (no parallelism), and hashing the same numbers with a plain `hashlib` line loop.
Goal (issue 5): hash-phones >= 1 M phones/s. Run: `.venv/bin/python benchmarks/upload.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.processes import ServiceProcess

from userpkg.client import BrandClient, Credentials
from userpkg.client.phones import hash_phones
from userpkg.client.uploads import Uploader
from userpkg.protocol import DataType, PackageType


def naive_hash(source: Path, target: Path) -> int:
    count = 0
    with source.open() as reader, target.open("w") as writer:
        for line in reader:
            digits = line.strip().replace(" ", "").replace("-", "").removeprefix("+86")
            if len(digits) == 11 and digits.isdigit():
                writer.write(hashlib.md5(digits.encode()).hexdigest() + "\n")
                count += 1
    return count


def main() -> None:
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        service = ServiceProcess(
            [
                "serve",
                "--sandbox",
                "--data",
                str(root / "data"),
                "--sandbox-users",
                "100",
                "--rate-limit",
                "1000",
                "--rate-burst",
                "1000",
                "--log-level",
                "WARNING",
            ],
            root / "serve.log",
        )
        try:
            service.wait_healthy()
            manifest = json.loads((root / "data" / "sandbox" / "sandbox.json").read_text())
            creds = Credentials.resolve(Path(manifest["credentials_path"]))
            source = root / "upload.csv"
            source.write_bytes(os.urandom(20 * 1024 * 1024))
            timings = {}
            for parallel in (1, 4):
                with BrandClient(creds) as client:
                    started = time.perf_counter()
                    Uploader(client, parallel=parallel, states=root / "state").upload_file(
                        source,
                        DataType.OPENID,
                        PackageType.TARGETED_EXPOSURE,
                        "benchmark upload of twenty mebibytes",
                        piece=parallel,
                    )
                    timings[parallel] = time.perf_counter() - started
        finally:
            service.stop()

        phones = root / "phones.txt"
        numbers = [
            f"+86 1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}" for _ in range(1_000_000)
        ]
        phones.write_text("\n".join(numbers) + "\n")
        started = time.perf_counter()
        counts = hash_phones(phones, root / "hashed.csv")
        ours = time.perf_counter() - started
        started = time.perf_counter()
        naive_count = naive_hash(phones, root / "naive.csv")
        naive = time.perf_counter() - started
        assert counts.hashed == naive_count == 1_000_000
        assert (root / "hashed.csv").read_bytes() == (root / "naive.csv").read_bytes()

    size = 20 * 1024 * 1024 / 1e6
    print(
        f"20 MiB upload (init, 5 parts, merge): {size / timings[4]:.0f} MB/s with 4 parts in parallel, "
        f"{size / timings[1]:.0f} MB/s one at a time"
    )
    print(
        f"hash-phones: {1e6 / ours / 1e6:.2f} M phones/s; plain hashlib loop {1e6 / naive / 1e6:.2f} M/s; "
        f"ratio {naive / ours:.1f}x   goal >= 1 M phones/s"
    )


if __name__ == "__main__":
    main()
