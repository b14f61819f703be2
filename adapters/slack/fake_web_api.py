"""A local fake of the Slack Web API: an aiohttp server on a free port that records calls.

Used by the tests and by `policybot bench --slack`; never talks to Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer


def signed_headers(secret: str, body: bytes, *, age: int = 0) -> dict[str, str]:
    """The headers Slack signs a request with: HMAC-SHA256 of `v0:{timestamp}:{body}`, the
    timestamp `age` seconds in the past."""
    timestamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    rate_limit_next: int = 0  # answer this many chat.postMessage calls with 429 first
    delay_seconds: float = 0.0  # how slowly the Web API answers
    server: TestServer | None = None
    # Socket Mode: envelopes to send to a client that connects, and the acks it sends back.
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)

    def methods(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.method == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        for _ in range(int(timeout / 0.02)):
            if len(self.methods(name)) >= count:
                return self.methods(name)
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name} called {len(self.methods(name))} times, wanted {count}")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if method == "chat.postMessage" and self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            self.calls.append(Call(f"{method}:429", args))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        self.calls.append(Call(method, args))
        if method == "apps.connections.open":
            assert self.server is not None
            url = str(self.server.make_url("/link")).replace("http://", "ws://")
            return web.json_response({"ok": True, "url": url})
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T061EG9R6"}
            )
        return web.json_response({"ok": True, "ts": "1.000001", "channel": args.get("channel")})

    async def _respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json()))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.envelopes:
            await socket.send_json(envelope)
        async for message in socket:
            if message.type.name == "TEXT":
                self.acks.append(json.loads(message.data))
        return socket

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/link", self._socket)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/respond", self._respond)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("/api/"))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
