"""The SHA-256 digests an upload declares: the whole file's (init) and each part's (file_meta).

Both are computed in one go before the upload opens, the parts' in a second thread beside the
whole file's (hashlib lets go of the GIL), so on two cores they cost the time of one pass and
sending a part is left with only reading it. Parts are guessed at the contract's default size.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

READ = 1 << 20
DEFAULT_PART_SIZE = 4 * 1024 * 1024


def file_digest(path: Path, offset: int = 0, length: int | None = None) -> tuple[str, int]:
    """SHA-256 and size of a byte range of a file, read a MiB at a time."""
    digest = hashlib.sha256()
    size = 0
    remaining = length
    with path.open("rb") as handle:
        handle.seek(offset)
        while remaining is None or remaining > 0:
            chunk = handle.read(READ if remaining is None else min(READ, remaining))
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest.hexdigest(), size


def part_digests(path: Path, offset: int, size: int, part_size: int) -> list[str]:
    """The SHA-256 of each `part_size` slice of `size` bytes from `offset`."""
    found = []
    for start in range(0, size, part_size):
        found.append(file_digest(path, offset + start, min(part_size, size - start))[0])
    return found


@dataclass
class UploadDigests:
    """A byte range's digest and size, and its parts' digests for parts of `part_size`."""

    digest: str
    size: int
    part_size: int = DEFAULT_PART_SIZE
    parts: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        path: Path,
        offset: int = 0,
        length: int | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> UploadDigests:
        expected = max(0, path.stat().st_size - offset)
        if length is not None:
            expected = min(expected, length)
        parts: list[str] = []
        helper = None
        if expected > part_size:

            def run() -> None:
                parts.extend(part_digests(path, offset, expected, part_size))

            helper = threading.Thread(target=run, name="userpkg-part-digests", daemon=True)
            helper.start()
        digest, size = file_digest(path, offset, length)
        if helper is not None:
            helper.join()
        elif 0 < size <= part_size:
            parts = [digest]
        if size != expected or len(parts) != -(-size // part_size):
            parts = []
        return cls(digest, size, part_size, parts)

    def part(self, number: int, part_size: int) -> str | None:
        """Part `number`'s digest if parts of `part_size` were hashed, else None."""
        if part_size != self.part_size or not 1 <= number <= len(self.parts):
            return None
        return self.parts[number - 1]
