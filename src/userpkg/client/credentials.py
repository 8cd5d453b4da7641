"""A brand's credentials: from a TOML file, `USERPKG_*` variables, or arguments.

Precedence: arguments, then environment, then the file. Keys are loaded once, with errors
that name the file and the mistake (a certificate where the private key belongs, ...).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from userpkg.protocol import KeyFormatError, load_private_key, load_public_key

PUBLIC_HOST = "https://api.mch.weixin.qq.com"
BACKUP_HOST = "https://api2.mch.weixin.qq.com"
ENV_PREFIX = "USERPKG_"
K = TypeVar("K")


class CredentialsError(ValueError):
    """Missing or unusable credentials; the message says which and where."""


@dataclass(frozen=True)
class Credentials:
    brand_id: str
    cert_serial_no: str
    private_key_path: Path
    platform_public_key_id: str
    platform_public_key_path: Path
    base_url: str = PUBLIC_HOST

    @classmethod
    def resolve(cls, config: Path | None = None, **given: str | None) -> Credentials:
        values: dict[str, str] = {}
        if config is not None:
            try:
                loaded = tomllib.loads(config.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise CredentialsError(f"cannot read {config}: {exc}") from None
            values.update({k: str(v) for k, v in loaded.items()})
        for item in fields(cls):
            env = os.environ.get(ENV_PREFIX + item.name.upper())
            if env:
                values[item.name] = env
        values.update({k: v for k, v in given.items() if v})
        missing = [f.name for f in fields(cls) if f.name not in values and f.name != "base_url"]
        if missing:
            names = ", ".join(missing)
            raise CredentialsError(
                f"missing {names}: give --config credentials.toml or set "
                + ", ".join(ENV_PREFIX + m.upper() for m in missing)
            )
        base = Path(config).parent if config is not None else Path.cwd()

        def path(name: str) -> Path:
            found = Path(values[name]).expanduser()
            return found if found.is_absolute() else base / found

        made = cls(
            brand_id=values["brand_id"],
            cert_serial_no=values["cert_serial_no"],
            private_key_path=path("private_key_path"),
            platform_public_key_id=values["platform_public_key_id"],
            platform_public_key_path=path("platform_public_key_path"),
        )
        return (
            replace(made, base_url=values["base_url"].rstrip("/")) if "base_url" in values else made
        )

    def private_key(self) -> RSAPrivateKey:
        return _load(self.private_key_path, load_private_key)

    def platform_public_key(self) -> RSAPublicKey:
        return _load(self.platform_public_key_path, load_public_key)


def _load(path: Path, loader: Callable[[str], K]) -> K:
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise CredentialsError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return loader(text)
    except KeyFormatError as exc:
        raise CredentialsError(f"{path}: {exc}") from None
