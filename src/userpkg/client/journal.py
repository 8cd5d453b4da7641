"""What this machine uploaded and pushed, kept under `$XDG_STATE_HOME/userpkg/` (SPEC §9).

One small JSON file per push, replaced atomically after every step, so an interrupted push
can resume, a repeated push is noticed, and `userpkg status` can list and refresh them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def state_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "userpkg"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Piece:
    """One upload of a push: its byte range, its upload and the last known expand state."""

    number: int
    offset: int
    length: int
    upload_id: str | None = None
    state: str | None = None
    return_message: str | None = None
    checked_at: str | None = None


@dataclass
class Push:
    push_id: str
    base_url: str
    brand_id: str
    user_package_id: str | None
    file: str
    file_digest: str
    file_size: int
    data_type: str
    package_type: str
    started_at: str
    pieces: list[Piece] = field(default_factory=list)
    kind: str = "push"

    @property
    def expanded(self) -> bool:
        """Every piece has an expand the service accepted (whatever its current state)."""
        return bool(self.pieces) and all(p.state for p in self.pieces)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or state_home()) / "pushes"

    def new(self, **values: Any) -> Push:
        push = Push(push_id=secrets.token_hex(4), started_at=now(), **values)
        self.save(push)
        return push

    def save(self, push: Push) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / f"{push.push_id}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(push.as_json(), indent=1), encoding="utf-8")
        os.replace(tmp, target)

    def all(self) -> list[Push]:
        found: list[Push] = []
        for path in self.root.glob("*.json") if self.root.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                pieces = [Piece(**p) for p in data.pop("pieces")]
                found.append(Push(**data, pieces=pieces))
            except (OSError, ValueError, TypeError, KeyError):
                continue
        return sorted(found, key=lambda p: (p.started_at, p.push_id))

    def same(self, base_url: str, brand_id: str, package_id: str, digest: str) -> list[Push]:
        """Earlier pushes of the same bytes into the same package by this machine."""
        return [
            p
            for p in self.all()
            if (p.kind, p.base_url, p.brand_id, p.user_package_id, p.file_digest)
            == ("push", base_url, brand_id, package_id, digest)
        ]

    def find_upload(self, upload_id: str) -> tuple[Push, Piece] | None:
        for push in self.all():
            for piece in push.pieces:
                if piece.upload_id == upload_id:
                    return push, piece
        return None
