"""A brand's credentials: from a TOML file, `USERPKG_*` variables, or arguments.

Where the file comes from: `--config FILE`, else `./credentials.toml`, else
`$XDG_CONFIG_HOME/userpkg/credentials.toml`. The file wins over the environment: variables
only fill what the file leaves out, so a stale `USERPKG_BRAND_ID` never silently beats a file
named on the command line. Each value remembers its source, for `userpkg doctor`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from userpkg.protocol import KeyFormatError, load_private_key, load_public_key

PUBLIC_HOST = "https://api.mch.weixin.qq.com"
BACKUP_HOST = "https://api2.mch.weixin.qq.com"
ENV_PREFIX = "USERPKG_"
FILENAME = "credentials.toml"
K = TypeVar("K")


class CredentialsError(ValueError):
    """Missing or unusable credentials; the message says which and where."""


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "userpkg"


def find_config(config: Path | None) -> Path | None:
    """The credentials file to read: the one named, else ./credentials.toml, else XDG's."""
    if config is not None:
        if not config.is_file():
            raise CredentialsError(f"--config {config}: no such file; give the credentials.toml")
        return config
    for candidate in (Path.cwd() / FILENAME, config_home() / FILENAME):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Credentials:
    brand_id: str
    cert_serial_no: str
    private_key_path: Path
    platform_public_key_id: str
    platform_public_key_path: Path
    base_url: str = PUBLIC_HOST
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def resolve(cls, config: Path | None = None, **given: str | None) -> Credentials:
        names = [f.name for f in fields(cls) if f.name != "sources"]
        values: dict[str, str] = {}
        sources: dict[str, str] = {}
        bases: dict[str, Path] = {}
        found = find_config(config)
        if found is not None:
            try:
                loaded = tomllib.loads(found.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise CredentialsError(f"cannot read {found}: {exc}") from None
            for key, value in loaded.items():
                if key in names:
                    values[key] = str(value)
                    sources[key] = f"file {found}"
                    bases[key] = found.parent
        for name in names:
            env = os.environ.get(ENV_PREFIX + name.upper())
            if env and name not in values:
                values[name] = env
                sources[name] = f"environment {ENV_PREFIX + name.upper()}"
                bases[name] = Path.cwd()
        for key, value in given.items():
            if value:
                values[key] = value
                sources[key] = "argument"
                bases[key] = Path.cwd()
        missing = [n for n in names if n not in values and n != "base_url"]
        if missing:
            where = (
                f"{found} has no {', '.join(missing)}"
                if found is not None
                else f"no credentials.toml found (looked for --config, ./{FILENAME}, "
                f"{config_home() / FILENAME})"
            )
            fix = "add them to the file, or set " if found is not None else "make one, or set "
            raise CredentialsError(
                f"{where}: {fix}"
                + ", ".join(ENV_PREFIX + m.upper() for m in missing)
                + f" (and {ENV_PREFIX}BASE_URL for a sandbox: without it the public host is used)"
            )

        def path(name: str) -> Path:
            value = Path(values[name]).expanduser()
            return value if value.is_absolute() else bases[name] / value

        if "base_url" not in values:
            sources["base_url"] = "default (the public host)"
        return cls(
            brand_id=values["brand_id"],
            cert_serial_no=values["cert_serial_no"],
            private_key_path=path("private_key_path"),
            platform_public_key_id=values["platform_public_key_id"],
            platform_public_key_path=path("platform_public_key_path"),
            base_url=values.get("base_url", PUBLIC_HOST).rstrip("/"),
            sources=sources,
        )

    def private_key(self) -> RSAPrivateKey:
        return _load(self.private_key_path, load_private_key, "private_key_path")

    def platform_public_key(self) -> RSAPublicKey:
        return _load(self.platform_public_key_path, load_public_key, "platform_public_key_path")


def _load(path: Path, loader: Callable[[str], K], name: str) -> K:
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise CredentialsError(f"{name} {path}: cannot read it ({exc.strerror})") from None
    try:
        return loader(text)
    except KeyFormatError as exc:
        raise CredentialsError(f"{name} {path}: {exc}") from None
