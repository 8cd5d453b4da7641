"""Each HTTP connection under limits: header size, header and body timeouts, connection count.

uvicorn's httptools protocol has none of these, so one connection could send headers without
end or hold a socket open forever. This subclass keeps uvicorn's fast parser and adds them;
whatever it refuses (and what the parser rejects) is answered by the app through `Edge`, so
the answer is JSON in the contract, carries a Request-ID and, on brand paths, is signed.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

ENV_LIMITS = "USERPKG_SERVE_LIMITS"
REFUSAL = "userpkg.refusal"
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits every connection of a process lives under (docs/deployment.md)."""

    max_head_bytes: int = 32 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 2048

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ConnectionLimits:
        text = os.environ.get(ENV_LIMITS)
        return cls(**json.loads(text)) if text else cls()


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the limits of `ConnectionLimits` on every request."""

    limits = ConnectionLimits.from_env()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = False
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False
        self._feeding = 0
        self._upgrade_body: int | None = None
        """Body bytes still owed by a request whose `Upgrade` we ignore; None outside one."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.logger.warning("refused a connection: %d open", len(self.connections) - 1)
            transport.abort()
            return
        self._arm(self.limits.header_timeout, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._upgrade_body:
            self._take_upgrade_body(data)
        else:
            self._feeding = len(data)
            self._feed(data)
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse_head()
        elif self.cycle is not None and self.cycle.more_body and not self._refused:
            self._arm(self.limits.body_timeout, self._body_too_slow)

    def _feed(self, data: bytes) -> None:
        """uvicorn's parsing, except that a request whose `Upgrade` we ignore keeps its body."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade as upgrade:
            if self._refused:
                return
            self.parser = httptools.HttpRequestParser(self)
            self._take_upgrade_body(data[upgrade.args[0] :])

    def _take_upgrade_body(self, data: bytes) -> None:
        """llhttp stops at the head of an `Upgrade: h2c` request (Java's HttpClient sends one on
        http://); HTTP/1.1 (RFC 9110 §7.8) says to ignore it and read the body as usual."""
        owed = self._upgrade_body or 0
        body, rest = data[:owed], data[owed:]
        if body:
            self._upgrade_body = owed - len(body)
            self.on_body(body)
        if not self._upgrade_body:
            self._upgrade_body = None
            if owed:
                self.on_message_complete()
            if rest:
                self._feeding = len(rest)
                self._feed(rest)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        if self._deadline is None:
            self._arm(self.limits.header_timeout, self._headers_too_slow)

    def on_headers_complete(self) -> None:
        limit = self.limits.max_head_bytes
        if self._head_bytes + self._feeding > limit and self._head_size() > limit:
            raise ValueError("head too large")  # the parser answers through send_400_response
        self._in_head = False
        self._arm(self.limits.body_timeout, self._body_too_slow)
        if self.parser.should_upgrade() and not self._should_upgrade():
            headers = dict(self.headers)
            if b"transfer-encoding" in headers:
                self._refuse(
                    400,
                    "a request with an Upgrade header must give its body a Content-Length; "
                    "send it without Upgrade or without chunked encoding",
                )
                return
            self._upgrade_body = int(headers.get(b"content-length", b"0"))
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._upgrade_body:
            return
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """The parser's refusals (bad request line, non-ASCII path), answered in the contract."""
        if self._in_head and self._head_bytes + self._feeding > self.limits.max_head_bytes:
            self._refuse_head()
            return
        self._refuse(
            400,
            "the request is not valid HTTP/1.1: the request line or a header is malformed "
            "(percent-encode any byte outside ASCII in the path)",
        )

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse_head(self) -> None:
        self._refuse(
            431,
            f"the request line and headers are larger than the "
            f"{self.limits.max_head_bytes} bytes allowed; send shorter headers",
        )

    def _arm(self, seconds: float, handler: Any) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if not self._in_head:
            self.transport.close()
            return
        self._refuse(
            408,
            f"the request headers did not arrive within {self.limits.header_timeout:g} "
            "seconds; send the whole request without pauses",
        )

    def _body_too_slow(self) -> None:
        """A body that stalls is dropped: the app sees a client disconnect (logged as 499)."""
        self._deadline = None
        if self.cycle is None or not self.cycle.more_body or self.transport.is_closing():
            return
        if self.flow.read_paused:
            self._arm(self.limits.body_timeout, self._body_too_slow)
            return
        self.logger.info("closed a connection whose body stalled for %gs", self.limits.body_timeout)
        self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        """Answer once through the app (JSON, Request-ID, signed on brand paths), then close."""
        self._refused = True
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        self.flow.pause_reading()
        state = self.app_state.copy()
        state[REFUSAL] = (status, message)
        url = bytes(getattr(self, "url", b""))
        path = url.split(b"?", 1)[0][:200].decode("ascii", "replace")
        scope: Any = {
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "root_path": self.root_path,
            "method": "GET",
            "path": path if path.startswith("/") else "/",
            "raw_path": b"",
            "query_string": b"",
            "headers": list(self.headers or [])[:64],
            "state": state,
        }
        cycle = RequestResponseCycle(
            scope=scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=True,
            on_response=self._linger,
        )
        cycle.more_body = False
        self.cycle = cycle
        self._start_asgi_task(cycle, self.app)

    def _linger(self) -> None:
        """Half-close and keep draining a moment, so the client reads the answer, not a reset."""
        if self.transport.is_closing():
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
