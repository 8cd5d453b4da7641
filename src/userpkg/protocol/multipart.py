"""The multipart/form-data body of a part upload: `file_meta` (signed JSON) and `file`."""

from __future__ import annotations

import secrets


def encode_part_upload(
    meta: bytes, data: bytes, filename: str = "part.csv", boundary: str | None = None
) -> tuple[str, bytes]:
    """(Content-Type, body). `meta` is sent byte for byte, since it is what gets signed."""
    content_type, pieces = part_upload_pieces(meta, data, filename, boundary)
    return content_type, b"".join(pieces)


def part_upload_pieces(
    meta: bytes, data: bytes, filename: str = "part.csv", boundary: str | None = None
) -> tuple[str, tuple[bytes, ...]]:
    """(Content-Type, the body in pieces): the part's bytes are not copied into one body."""
    boundary = boundary or secrets.token_hex(16)
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file_meta"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    middle = (
        f"\r\n--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", (head + meta + middle, data, tail)
