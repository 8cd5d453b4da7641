"""BrandClient and AsyncBrandClient: thin clients over httpx, one method per endpoint.

Every request is signed; every response is verified (serial, age, signature) before its body
is believed. 429, 5xx and connection errors are retried with exponential backoff and jitter,
honouring Retry-After, each try signed anew (fresh nonce and timestamp) over the very same
body bytes. With `failover=True` a connection error moves from the public host to WeChat
Pay's backup host; `failover="https://…"` names the backup host explicitly. Every try and its
answer go to the `userpkg.client.wire` logger at DEBUG (see `userpkg.client.wire`).
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from userpkg.client import wire
from userpkg.client.credentials import BACKUP_HOST, PUBLIC_HOST, Credentials
from userpkg.client.errors import ApiError, SignatureError, TransportFailure
from userpkg.protocol import (
    BrandCredential,
    ResponseValidator,
    ResponseVerificationError,
    RsaSigner,
    parse_authorization,
    request_message,
)
from userpkg.protocol.models import (
    ExpandResponse,
    InitUploadResponse,
    MergeResponse,
    UploadPartResponse,
    UserPackageFileInfo,
    _Response,
)
from userpkg.protocol.multipart import part_upload_pieces

PREFIX = "/brand/marketing/user-package"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
R = TypeVar("R", bound=_Response)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 20.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Full jitter over an exponential ceiling; Retry-After, when given, is the floor."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2**attempt)
        wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, min(float(retry_after), self.cap_seconds * 3))
        return wait


@dataclass(frozen=True)
class Call:
    """One API call: what is sent (identical on every try) and what is signed."""

    method: str
    path: str
    body: bytes = b""
    content_type: str | None = "application/json"
    signed: bytes | None = None
    pieces: tuple[bytes, ...] = ()
    """A long body in pieces, sent one after the other rather than joined (`body` is empty)."""

    @property
    def signed_body(self) -> bytes:
        return self.body if self.signed is None else self.signed


class _Exchange:
    """The decisions shared by the sync and async clients: headers, verdicts, retries."""

    def __init__(
        self,
        credentials: Credentials,
        retries: RetryPolicy,
        failover: bool | str,
        clock: Callable[[], float],
    ) -> None:
        self.credentials = credentials
        self.signer = BrandCredential(
            credentials.brand_id, credentials.cert_serial_no, RsaSigner(credentials.private_key())
        )
        self.validator = ResponseValidator(
            credentials.platform_public_key_id, credentials.platform_public_key(), clock=clock
        )
        self.retries = retries
        hosts = [credentials.base_url]
        if isinstance(failover, str):
            hosts.append(failover.rstrip("/"))
        elif failover and credentials.base_url == PUBLIC_HOST:
            hosts.append(BACKUP_HOST)
        self.hosts = hosts

    def request(self, call: Call, host: str, *, asynchronous: bool = False) -> httpx.Request:
        auth = self.signer.authorize(call.method, call.path, call.signed_body)
        headers = {
            "Authorization": auth.header(),
            "Accept": "application/json",
            "Wechatpay-Serial": self.credentials.platform_public_key_id,
            "User-Agent": "userpkg-client",
        }
        if call.content_type is not None:
            headers["Content-Type"] = call.content_type
        content: bytes | Iterator[bytes] | AsyncIterator[bytes] = call.body
        if call.pieces:
            headers["Content-Length"] = str(sum(len(piece) for piece in call.pieces))
            content = _async_pieces(call.pieces) if asynchronous else iter(call.pieces)
        return httpx.Request(
            call.method,
            host + call.path,
            content=content,
            headers=headers,
            extensions={"userpkg_signed": call.signed_body},
        )

    def verdict(self, response: httpx.Response) -> dict[str, Any] | None:
        """The verified JSON of a success; None when the call should be tried again."""
        request_id = response.headers.get("Request-ID")
        try:
            self.validator.validate(dict(response.headers), response.content)
        except ResponseVerificationError as exc:
            raise self._unverified(response, str(exc)) from None
        if response.status_code == 429 or response.status_code >= 500:
            return None
        try:
            data = json.loads(response.content) if response.content else {}
        except ValueError:
            data = {"code": "INVALID_RESPONSE", "message": response.text[:200]}
        if response.status_code >= 400:
            raise ApiError(
                response.status_code,
                str(data.get("code", "")),
                str(data.get("message", "")),
                data.get("detail"),
                request_id,
                _string_to_sign(response.request),
            )
        return data if isinstance(data, dict) else {"data": data}

    def _unverified(self, response: httpx.Response, reason: str) -> SignatureError:
        """Name the setting to fix when the cause is recognisable; keep the claimed answer."""
        serial = response.headers.get("Wechatpay-Serial")
        setting = None
        if serial and serial != self.credentials.platform_public_key_id:
            setting = "platform_public_key_id"
        elif "local clock" in reason:
            setting = "the clock"
        claimed: Any = None
        if response.status_code >= 400:
            try:
                claimed = json.loads(response.content)
            except ValueError:
                claimed = response.text[:500]
        return SignatureError(
            reason,
            response.headers.get("Request-ID"),
            status=response.status_code,
            unverified=claimed,
            setting=setting,
        )

    def give_up(self, last: httpx.Response | Exception | None) -> Exception:
        if isinstance(last, httpx.Response):
            try:
                data = json.loads(last.content or b"{}")
            except ValueError:
                data = {"code": "HTTP_" + str(last.status_code), "message": last.text[:200]}
            return ApiError(
                last.status_code,
                str(data.get("code", "")),
                str(data.get("message", "")),
                data.get("detail"),
                last.headers.get("Request-ID"),
            )
        url = self.hosts[-1]
        return TransportFailure(
            f"no answer from {url} after {self.retries.attempts} tries ({last or 'no reply'}): "
            "check base_url and that the service is running",
            url,
        )


async def _async_pieces(pieces: tuple[bytes, ...]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _string_to_sign(request: httpx.Request) -> str | None:
    """The client's own string to sign for a sent request, rebuilt from its header."""
    try:
        auth = parse_authorization(request.headers.get("Authorization"))
    except ValueError:
        return None
    meta = request.extensions.get("userpkg_signed")
    body = meta if isinstance(meta, bytes) else request.content
    url = request.url.raw_path.decode("ascii")
    return request_message(request.method, url, auth.timestamp, auth.nonce_str, body).decode(
        "utf-8", "replace"
    )


def deterministic(error: httpx.TransportError, host: str) -> TransportFailure | None:
    """A TLS or protocol failure that trying again cannot fix; None for transient ones."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return TransportFailure(
                f"{host}: TLS failed ({cause}); check base_url (http:// or https://, the "
                "host name) and the certificate",
                host,
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError) or (
        isinstance(error, httpx.RemoteProtocolError) and "disconnected" not in str(error).lower()
    ):
        return TransportFailure(
            f"{host} does not speak HTTP as expected ({error}); check base_url", host
        )
    return None


class _Attempts:
    """One call's tries: how long to wait before each, on which host, and what to raise last."""

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange
        self._last: httpx.Response | Exception | None = None
        self._host = 0

    def __iter__(self) -> Iterator[tuple[float, str]]:
        policy = self._exchange.retries
        for attempt in range(policy.attempts):
            wait = 0.0
            if attempt:
                last = self._last
                retry_after = (
                    last.headers.get("Retry-After") if isinstance(last, httpx.Response) else None
                )
                wait = policy.delay(attempt - 1, retry_after)
            yield wait, self._exchange.hosts[self._host]

    def no_answer(self, error: Exception) -> None:
        """A connection error: try again, on the backup host if there is one."""
        self._last = error
        self._host = min(self._host + 1, len(self._exchange.hosts) - 1)

    def busy(self, response: httpx.Response) -> None:
        """429 or 5xx: try again after the delay."""
        self._last = response

    def give_up(self) -> Exception:
        return self._exchange.give_up(self._last)


def _init_call(info: UserPackageFileInfo) -> Call:
    body = json.dumps(
        {"user_package_file_info": info.model_dump(mode="json")},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    return Call("POST", f"{PREFIX}/uploads", body)


def _part_call(upload_id: str, number: int, data: bytes, digest: str, filename: str) -> Call:
    meta = json.dumps({"filename": filename, "digest": digest}, separators=(",", ":")).encode()
    content_type, pieces = part_upload_pieces(meta, data, filename)
    return Call("PUT", f"{PREFIX}/uploads/{upload_id}/{number}", b"", content_type, meta, pieces)


def _merge_call(upload_id: str) -> Call:
    return Call("POST", f"{PREFIX}/uploads/{upload_id}", content_type=None)


def _expand_call(package_id: str, upload_id: str) -> Call:
    body = json.dumps({"upload_id": upload_id}, separators=(",", ":")).encode()
    return Call("POST", f"{PREFIX}/user-packages/{package_id}/expand", body)


class BrandClient:
    """Synchronous client. `transport` lets tests put a fake host underneath, as in httpx."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retries: RetryPolicy | None = None,
        failover: bool | str = False,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._exchange = _Exchange(credentials, retries or RetryPolicy(), failover, clock)
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._sleep = sleep

    @property
    def credentials(self) -> Credentials:
        return self._exchange.credentials

    def send(self, call: Call) -> dict[str, Any]:
        attempts = _Attempts(self._exchange)
        for wait, host in attempts:
            if wait:
                self._sleep(wait)
            request = self._exchange.request(call, host)
            wire.sent(request, call.signed_body)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                wire.no_answer(request, exc)
                fatal = deterministic(exc, host)
                if fatal is not None:
                    raise fatal from None
                attempts.no_answer(exc)
                continue
            wire.received(request, response)
            data = self._exchange.verdict(response)
            if data is not None:
                return data
            attempts.busy(response)
        raise attempts.give_up()

    def _typed(self, model: type[R], call: Call) -> R:
        return model.from_json(self.send(call))

    def init_upload(self, info: UserPackageFileInfo) -> InitUploadResponse:
        return self._typed(InitUploadResponse, _init_call(info))

    def upload_part(
        self, upload_id: str, number: int, data: bytes, digest: str, filename: str
    ) -> UploadPartResponse:
        return self._typed(
            UploadPartResponse, _part_call(upload_id, number, data, digest, filename)
        )

    def merge(self, upload_id: str) -> MergeResponse:
        return self._typed(MergeResponse, _merge_call(upload_id))

    def expand(self, package_id: str, upload_id: str) -> ExpandResponse:
        return self._typed(ExpandResponse, _expand_call(package_id, upload_id))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BrandClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AsyncBrandClient:
    """The same client for asyncio code."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retries: RetryPolicy | None = None,
        failover: bool | str = False,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._exchange = _Exchange(credentials, retries or RetryPolicy(), failover, clock)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    @property
    def credentials(self) -> Credentials:
        return self._exchange.credentials

    async def send(self, call: Call) -> dict[str, Any]:
        attempts = _Attempts(self._exchange)
        for wait, host in attempts:
            if wait:
                await asyncio.sleep(wait)
            request = self._exchange.request(call, host, asynchronous=True)
            wire.sent(request, call.signed_body)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                wire.no_answer(request, exc)
                fatal = deterministic(exc, host)
                if fatal is not None:
                    raise fatal from None
                attempts.no_answer(exc)
                continue
            wire.received(request, response)
            data = self._exchange.verdict(response)
            if data is not None:
                return data
            attempts.busy(response)
        raise attempts.give_up()

    async def _typed(self, model: type[R], call: Call) -> R:
        return model.from_json(await self.send(call))

    async def init_upload(self, info: UserPackageFileInfo) -> InitUploadResponse:
        return await self._typed(InitUploadResponse, _init_call(info))

    async def upload_part(
        self, upload_id: str, number: int, data: bytes, digest: str, filename: str
    ) -> UploadPartResponse:
        return await self._typed(
            UploadPartResponse, _part_call(upload_id, number, data, digest, filename)
        )

    async def merge(self, upload_id: str) -> MergeResponse:
        return await self._typed(MergeResponse, _merge_call(upload_id))

    async def expand(self, package_id: str, upload_id: str) -> ExpandResponse:
        return await self._typed(ExpandResponse, _expand_call(package_id, upload_id))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncBrandClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
