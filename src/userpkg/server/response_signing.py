"""Choosing the key for a brand response and signing it: one place for the edge and handlers.

The key is the platform key the request named in Wechatpay-Serial, if the brand holds it, else
the brand's default, else the service's; a pending SIGNTEST turns the signature into a probe.
"""

from __future__ import annotations

import re

from userpkg.core.brands import Brands
from userpkg.core.platform_keys import PlatformKeys

_CLAIMED_BRAND = re.compile(r'brand_id="([0-9A-Za-z]{1,32})"')


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
        key_id = (brand.response_key_id(requested_key) if brand else None) or self._default
        return self._keys.signer(key_id).headers(body, timestamp=timestamp, probe=probe)
