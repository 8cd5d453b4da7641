"""A fake WeChat Pay host in front of the real service, injecting one fault per request.

Faults, consumed in order (then requests pass through): "pass", "429", "500",
"bad-signature", "wrong-serial", "stale", "probe". And a TCP proxy that drops the first
part upload in the middle of its body.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from userpkg.protocol import ResponseSigner

from .support import LiveServer


@dataclass
class Seen:
    method: str
    path: str
    body: bytes
    authorization: str


@dataclass
class FakeHost:
    live: LiveServer
    faults: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def _signer(self, key_id: str) -> ResponseSigner:
        return self.live.service.keys.signer(key_id)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.seen.append(
            Seen(request.method, request.url.path, body, request.headers.get("authorization", ""))
        )
        fault = self.faults.pop(0) if self.faults else "pass"
        key_id = request.headers.get("wechatpay-serial", "")
        if fault in ("429", "500"):
            payload = json.dumps(
                {
                    "code": "RATELIMIT_EXCEEDED" if fault == "429" else "SYSTEM_ERROR",
                    "message": "injected",
                }
            ).encode()
            headers = self._signer(key_id).headers(payload)
            if fault == "429":
                headers["Retry-After"] = "2"
            await Response(payload, int(fault), headers, "application/json")(scope, receive, send)
            return
        async with httpx.AsyncClient(base_url=self.live.base_url, timeout=30) as upstream:
            forwarded = await upstream.request(
                request.method,
                request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                content=body,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
        headers = {
            k: v
            for k, v in forwarded.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding", "connection")
        }
        if fault == "bad-signature":
            other = self._signer(key_id).headers(b"something else")
            headers["wechatpay-signature"] = other["Wechatpay-Signature"]
        elif fault == "wrong-serial":
            headers["wechatpay-serial"] = "PUB_KEY_ID_00000000000000000000000000000000"
        elif fault in ("stale", "probe"):
            resigned = self._signer(key_id).headers(
                forwarded.content,
                timestamp=int(time.time()) - 1000 if fault == "stale" else None,
                probe=fault == "probe",
            )
            headers.update({k.lower(): v for k, v in resigned.items()})
        await Response(forwarded.content, forwarded.status_code, headers)(scope, receive, send)


class Running:
    """Serve an ASGI app on a free loopback port in a thread."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class DroppingProxy:
    """Forwards TCP to the service, but cuts the first PUT after `keep` bytes of it."""

    def __init__(self, upstream_port: int, keep: int = 300) -> None:
        self.upstream_port = upstream_port
        self.keep = keep
        self.dropped = 0
        self.loop = asyncio.new_event_loop()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._sock = sock
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, sock=self._sock)
        )
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def client_to_upstream() -> None:
            sent = 0
            cutting = False
            while data := await reader.read(4096):
                if not self.dropped and data.startswith(b"PUT "):
                    cutting = True
                if cutting:
                    room = self.keep - sent
                    up_writer.write(data[:room])
                    sent += min(room, len(data))
                    if sent >= self.keep:
                        self.dropped += 1
                        writer.close()
                        up_writer.close()
                        return
                else:
                    up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def upstream_to_client() -> None:
            while data := await up_reader.read(4096):
                writer.write(data)
                await writer.drain()
            writer.close()

        await asyncio.gather(client_to_upstream(), upstream_to_client(), return_exceptions=True)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
