"""Choosing the key for a brand response and signing it: one place for the edge and handlers.

The key is the platform key the request named in Wechatpay-Serial if the brand (authenticated,
or else claimed) holds it, else that brand's default; with no known brand, the named key if it
exists (the client holds it), else the service's. A pending SIGNTEST makes the signature a probe.
"""

from __future__ import annotations

import asyncio
import functools
import re
from concurrent.futures import ThreadPoolExecutor

from userpkg.core.brands import Brands
from userpkg.core.platform_keys import PlatformKeys

_CLAIMED_BRAND = re.compile(r'brand_id="([0-9A-Za-z]{1,32})"')
_SIGNING_THREAD = ThreadPoolExecutor(1, thread_name_prefix="response-signing")
"""The RSA sign releases the GIL: on its own thread it runs beside the next request's Python
work, on another core (docs/performance.md, "Brand API")."""


class ResponseSigning:
    def __init__(self, brands: Brands, keys: PlatformKeys, default_key_id: str) -> None:
        self._brands = brands
        self._keys = keys
        self._default = default_key_id

    def headers(
        self,
        body: bytes,
        *,
        authenticated_brand: str | None,
        authorization: str | None,
        requested_key: str | None,
        timestamp: int | None = None,
    ) -> dict[str, str]:
        """Signature headers; only an authenticated brand can receive (and use up) a probe."""
        brand_id = authenticated_brand
        probe = brand_id is not None and self._brands.take_signtest(brand_id)
        if brand_id is None:
            claimed = _CLAIMED_BRAND.search(authorization or "")
            brand_id = claimed.group(1) if claimed else None
        brand = self._brands.get(brand_id) if brand_id else None
        if brand is None and (named := self._named_key(requested_key)) is not None:
            return self._keys.signer(named).headers(body, probe=False)
        key_id = (brand.response_key_id(requested_key) if brand else None) or self._default
        return self._keys.signer(key_id).headers(body, timestamp=timestamp, probe=probe)

    async def headers_beside(
        self, body: bytes, *, authenticated_brand: str, requested_key: str | None
    ) -> dict[str, str]:
        """`headers` for an authenticated brand's answer, signed on the signing thread."""
        return await asyncio.get_running_loop().run_in_executor(
            _SIGNING_THREAD,
            functools.partial(
                self.headers,
                body,
                authenticated_brand=authenticated_brand,
                authorization=None,
                requested_key=requested_key,
            ),
        )

    def _named_key(self, key_id: str | None) -> str | None:
        """With no brand to go by, the key the request named is the one its client holds."""
        if not key_id or not key_id.startswith("PUB_KEY_ID_") or len(key_id) > 64:
            return None
        return key_id if self._keys.exists(key_id) else None
