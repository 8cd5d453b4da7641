"""Receiving a part upload as it streams in: `file` goes to disk, `file_meta` stays in memory.

Memory stays flat whatever the body size: the parser hands over chunks, and the limit is
enforced on the bytes received so far, before the whole body is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from userpkg.protocol.errors import param_error
from userpkg.server.bodies import too_large
from userpkg.store.blobs import StagedFile

MAX_META = 8 * 1024


@dataclass
class PartUpload:
    """What a part upload's body held; `problem` says what was wrong with its framing."""

    meta: bytes | None = None
    staged: StagedFile | None = None
    problem: str | None = None
    seen: list[str] = field(default_factory=list)

    def discard(self) -> None:
        if self.staged is not None:
            self.staged.discard()


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary") or None


class _Receiver:
    """The parser's callbacks: route each part's bytes by its form name."""

    def __init__(self, body: PartUpload, stage: Callable[[], StagedFile]) -> None:
        self.body = body
        self.stage = stage
        self.meta = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.value = b""
        self.name: str | None = None
        self.ended = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.headers.clear()
        self.name = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.field.lower()] = self.value
        self.field, self.value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name in ("file", "file_meta") and name in self.body.seen:
            raise MultipartParseError(f"the part {name!r} appears twice")
        self.body.seen.append(name)
        self.name = name
        if name == "file":
            self.body.staged = self.stage()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.name == "file_meta":
            self.meta.extend(data[start:end])
            if len(self.meta) > MAX_META:
                raise param_error(f"file_meta is larger than {MAX_META} bytes", status=413)
        elif self.name == "file" and self.body.staged is not None:
            self.body.staged.write(data[start:end])

    def on_end(self) -> None:
        self.ended = True


async def receive_part_upload(
    chunks: AsyncIterator[bytes], boundary: bytes, limit: int, stage: Callable[[], StagedFile]
) -> PartUpload:
    """Parse the body as it arrives; a body over `limit` bytes is refused with 413 at once."""
    body = PartUpload()
    receiver = _Receiver(body, stage)
    received = 0
    try:
        parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise too_large(limit)
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        body.problem = f"the multipart body is malformed: {exc}"
    except BaseException:
        body.discard()
        raise
    if body.problem is None and not receiver.ended:
        body.problem = "the multipart body is truncated (no closing boundary)"
    if "file_meta" in body.seen:
        body.meta = bytes(receiver.meta)
    return body
