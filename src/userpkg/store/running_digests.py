"""An upload's SHA-256 from its first byte, advanced as its parts land, so the merge checks
the file without reading it all again at the end.

Process memory only, and only a shortcut: each part hashed is hashed back from the upload's
file (as written, not as received) and remembered with its digest. The merge resumes from
what was hashed only if every part hashed still has the digest its row says; otherwise, or
after a restart, or when another process wrote the parts, it reads the whole file.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
KEPT = 64


@dataclass
class _Progress:
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    hashed: dict[int, str] = field(default_factory=dict)
    waiting: dict[int, tuple[int, str]] = field(default_factory=dict)


class RunningDigests:
    """Per upload: the digest of its file's first `size` bytes. Callers hold the upload's lock."""

    def __init__(self) -> None:
        self._uploads: OrderedDict[str, _Progress] = OrderedDict()
        self._lock = threading.Lock()

    def written(self, upload_id: str, path: Path, offset: int, length: int, sha256: str) -> None:
        """A part of `length` bytes with digest `sha256` was written at `offset` in `path`."""
        with self._lock:
            progress = self._uploads.setdefault(upload_id, _Progress())
            self._uploads.move_to_end(upload_id)
            while len(self._uploads) > KEPT:
                self._uploads.popitem(last=False)
        if offset < progress.size:
            self.forget(upload_id)
            return
        progress.waiting[offset] = (length, sha256)
        if progress.size not in progress.waiting:
            return
        with path.open("rb") as handle:
            handle.seek(progress.size)
            while progress.size in progress.waiting:
                start = progress.size
                length, sha256 = progress.waiting.pop(start)
                remaining = length
                while remaining:
                    chunk = handle.read(min(CHUNK, remaining))
                    if not chunk:
                        self.forget(upload_id)
                        return
                    progress.digest.update(chunk)
                    remaining -= len(chunk)
                progress.hashed[start] = sha256
                progress.size += length

    def file_digest(self, upload_id: str, path: Path, parts: Mapping[int, str]) -> tuple[int, str]:
        """(size, SHA-256) of the upload's file, `parts` being each part's offset and the
        digest its row holds; resumes from the parts hashed as they landed when they agree."""
        progress = self.forget(upload_id)
        if progress is None or any(parts.get(at) != sha for at, sha in progress.hashed.items()):
            progress = _Progress()
        size = progress.size
        with path.open("rb") as handle:
            handle.seek(size)
            while chunk := handle.read(CHUNK):
                progress.digest.update(chunk)
                size += len(chunk)
        return size, str(progress.digest.hexdigest())

    def forget(self, upload_id: str) -> _Progress | None:
        with self._lock:
            return self._uploads.pop(upload_id, None)
