"""Who a lookup value names: an openid under an appid, the MD5 of a phone, or a phone number.

The console's membership lookup resolves the value to a directory user here, then asks the
package, exactly as the operator API's members/check does.
"""

from __future__ import annotations

import hashlib
import re

from userpkg.core.directory import Directory
from userpkg.core.phone_index import PhoneIndex
from userpkg.protocol.errors import param_error

PHONE = re.compile(r"^1[0-9]{10}$")
MD5 = re.compile(r"^[0-9A-Fa-f]{32}$")


def phone_md5(phone: str) -> str:
    """The MD5 a brand would upload for this phone: of the bare 11 digits, no +86."""
    return hashlib.md5(phone.encode("ascii"), usedforsecurity=False).hexdigest()


class MemberLookup:
    def __init__(self, directory: Directory, phones: PhoneIndex) -> None:
        self._directory = directory
        self._phones = phones

    def by_openid(self, appid: str, openid: str) -> int | None:
        appid, openid = appid.strip(), openid.strip()
        if not appid or not openid:
            raise param_error("give both the appid and the openid issued under it", "/openid")
        return self._directory.codec.decode(appid, openid)

    def by_md5_phone(self, md5_phone: str) -> int | None:
        md5_phone = md5_phone.strip()
        if not MD5.match(md5_phone):
            raise param_error("an MD5 of a phone is 32 hexadecimal characters", "/md5_phone")
        return self._phones.user_of(md5_phone)

    def by_phone(self, phone: str) -> int | None:
        phone = re.sub(r"[\s-]", "", phone).removeprefix("+86")
        if not PHONE.match(phone):
            raise param_error("a phone number is 11 digits starting with 1, e.g. 13800138000")
        return self._phones.user_of(phone_md5(phone))
