"""Push a file with the Python SDK, then wait for the expand to finish.

    .venv/bin/python examples/push_with_sdk.py USER_PACKAGE_ID members.csv \
        --config userpkg-data/sandbox/credentials.toml [--data-type md5-phone] \
        [--package-type risk-user]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from userpkg.client import ApiError, BrandClient, Credentials, SignatureError
from userpkg.client.uploads import AlreadyPushed, ExpandRefused, Uploader
from userpkg.protocol import DataType, PackageType


def option(member: str) -> str:
    """`USER_PACKAGE_TYPE_RISK_USER` -> `risk-user`: the CLI's spelling."""
    return member.split("_TYPE_", 1)[-1].lower().replace("_", "-")


DATA_TYPES = {option(t.value): t for t in DataType}
PACKAGE_TYPES = {option(t.value): t for t in PackageType}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("package_id")
    parser.add_argument("file", type=Path)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--data-type", choices=DATA_TYPES, default="openid")
    parser.add_argument("--package-type", choices=PACKAGE_TYPES, default="targeted-exposure")
    args = parser.parse_args()
    credentials = Credentials.resolve(args.config)
    try:
        with BrandClient(credentials) as client:
            result = Uploader(client).push(
                args.package_id,
                args.file,
                DATA_TYPES[args.data_type],
                PACKAGE_TYPES[args.package_type],
                "members pushed with the userpkg SDK",
                wait=True,
            )
    except (ExpandRefused, AlreadyPushed) as exc:
        print(exc, file=sys.stderr)
        return 2
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
