"""Write an openid file for the sandbox: openids of its users under its bound appids.

    .venv/bin/python examples/sandbox_file.py members.csv --lines 900000

900,000 lines is about 25 MiB: more than one upload, so `userpkg push` splits it. The
openids come from the operator API (`GET /admin/v1/users`), so every line is recognised;
users repeat once the sandbox's users run out (they count as duplicates).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=900_000)
    parser.add_argument("--manifest", type=Path, default=Path("userpkg-data/sandbox/sandbox.json"))
    args = parser.parse_args()
    manifest = json.loads(args.manifest.read_text())
    admin = httpx.Client(
        base_url=manifest["base_url"],
        headers={"Authorization": f"Bearer {manifest['admin_token']}"},
        timeout=60,
    )
    openids: list[str] = []
    offset = 0
    while True:
        page = admin.get("/admin/v1/users", params={"offset": offset, "limit": 1000}).json()
        for user in page["data"]:
            openids.extend(user["openids"][appid] for appid in manifest["bound_appids"])
        offset += len(page["data"])
        if not page["data"] or offset >= page["total_count"]:
            break
    with args.out.open("w") as out:
        for openid in itertools.islice(itertools.cycle(openids), args.lines):
            out.write(openid + "\n")
    print(f"wrote {args.lines} lines ({args.out.stat().st_size / 2**20:.1f} MiB) to {args.out}")


if __name__ == "__main__":
    main()
