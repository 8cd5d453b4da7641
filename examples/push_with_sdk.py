"""Push a file with the Python SDK, then wait for the expand to finish.

    .venv/bin/python examples/push_with_sdk.py USER_PACKAGE_ID members.csv \
        --config userpkg-data/sandbox/credentials.toml
"""

from __future__ import annotations

import argparse
from pathlib import Path

from userpkg.client import ApiError, BrandClient, Credentials, SignatureError
from userpkg.client.uploads import Uploader
from userpkg.protocol import DataType, PackageType


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("package_id")
    parser.add_argument("file", type=Path)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    credentials = Credentials.resolve(args.config)
    try:
        with BrandClient(credentials) as client:
            result = Uploader(client).push(
                args.package_id,
                args.file,
                DataType.OPENID,
                PackageType.TARGETED_EXPOSURE,
                "members pushed with the userpkg SDK",
                wait=True,
            )
    except ApiError as exc:
        print(f"the API said {exc.code}: {exc.message} (Request-ID {exc.request_id})")
        return 1
    except SignatureError as exc:
        print(f"a response was not genuine: {exc.reason}")
        return 3
    for piece in result.push.pieces:
        print(str(piece.upload_id)[:16], piece.state, piece.return_message)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
