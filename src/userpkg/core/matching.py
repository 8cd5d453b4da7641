"""Well-formed values → user ids, a whole chunk at a time (SPEC §7).

Openids are decoded with one AES call over every value of the chunk; MD5 values are looked up
in the phone index. A value is recognised when it names an existing user the brand may target;
everything else counts as unrecognised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from userpkg.core.openids import PREFIX_LENGTH, OpenidCodec
from userpkg.core.phone_index import PhoneIndex

_B64 = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"):
    _B64[_c] = _i
UserIds = npt.NDArray[np.uint32]


def _decode_blocks(
    body: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """(n, 22) base64url chars → (n, 16) bytes, and whether each was canonically encoded."""
    six = _B64[body].astype(np.uint32)
    out = np.empty((len(body), 16), dtype=np.uint8)
    for group in range(5):
        a, b, c, d = (six[:, group * 4 + k] for k in range(4))
        out[:, group * 3] = (a << 2 | b >> 4) & 0xFF
        out[:, group * 3 + 1] = (b << 4 | c >> 2) & 0xFF
        out[:, group * 3 + 2] = (c << 6 | d) & 0xFF
    a, b = six[:, 20], six[:, 21]
    out[:, 15] = (a << 2 | b >> 4) & 0xFF
    canonical = (b & 0x0F) == 0
    return out, canonical


class Matcher:
    def __init__(self, codec: OpenidCodec, phones: PhoneIndex) -> None:
        self._codec = codec
        self._phones = phones

    def openids(self, values: npt.NDArray[np.uint8], appids: list[str], next_id: int) -> UserIds:
        """User ids for (n, 28) openids issued under any of `appids`; 0 if unrecognised."""
        found = np.zeros(len(values), dtype=np.uint32)
        if not len(values) or not appids:
            return found
        blocks, canonical = _decode_blocks(values[:, PREFIX_LENGTH:])
        plain = np.frombuffer(self._codec.decrypt_blocks(blocks.tobytes()), dtype=np.uint8)
        plain = plain.reshape(-1, 16)
        ids = plain[:, :4].copy().view(">u4").ravel().astype(np.uint32)
        tags = plain[:, 4:]
        exists = (ids >= 1) & (ids < next_id) & canonical
        prefixes = values[:, :PREFIX_LENGTH]
        for appid in appids:
            prefix = np.frombuffer(self._codec.prefix(appid).encode("ascii"), dtype=np.uint8)
            tag = np.frombuffer(self._codec.tag(appid), dtype=np.uint8)
            mine = exists & (prefixes == prefix).all(axis=1) & (tags == tag).all(axis=1)
            found[mine] = ids[mine]
        return found

    def md5_phones(self, values: npt.NDArray[np.uint8]) -> UserIds:
        return self._phones.lookup(values)
