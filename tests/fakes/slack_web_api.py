"""A local fake of the Slack Web API: an aiohttp server on a free port that records calls.

Used by the tests and by `policybot bench --slack` (tools/loadtest.py); never talks to Slack.
It keeps what was posted, per channel and thread with its metadata, so that the history methods
answer as Slack would; user groups and channel members are whatever a test puts in `usergroups`
and `channel_members`."""

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


OAUTH_CLIENT_SECRET = "oauth-client-secret"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None = None  # the bearer token the call was made with


@dataclass
class Message:
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    thread_ts: str | None

    def as_slack(self, *, with_metadata: bool) -> dict[str, Any]:
        shown: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        shown["blocks"] = self.blocks
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            shown["metadata"] = self.metadata
        return shown


def _truthy(value: Any) -> bool:
    """Booleans as they arrive in a query string or a JSON body."""
    return value in (True, 1, "1", "true", "True")


def _decoded(value: Any) -> Any:
    """Blocks and metadata arrive as JSON strings in form posts and as objects in JSON posts."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    # What chat.postMessage posted, by channel id, oldest first.
    messages: dict[str, list[Message]] = field(default_factory=dict)
    # usergroups.users.list: the user ids in each user group id.
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # conversations.members: the user ids in each channel id, given out a page at a time.
    channel_members: dict[str, list[str]] = field(default_factory=dict)
    # chat.delete answers cant_delete_message for these (as Slack does when a workspace's
    # retention settings forbid deleting), so the caller must fall back to chat.update.
    undeletable: set[str] = field(default_factory=set)
    rate_limit_next: int = 0  # answer this many chat.postMessage calls with 429 first
    retry_after: str = "1"  # what those 429s ask
    failing_posts: int = 0  # answer this many chat.postMessage calls with 500 first (an outage)
    outage_until: float = 0.0  # answer every call with 500 until then (time.monotonic())
    # oauth.v2.access: the workspace and bot token each consent code installs.
    installs: dict[str, tuple[str, str]] = field(default_factory=dict)
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

    def posted(self, channel: str) -> list[Message]:
        return self.messages.get(channel, [])

    async def wait_for_post(
        self, channel: str, count: int = 1, timeout: float = 10.0
    ) -> list[Message]:
        for _ in range(int(timeout / 0.02)):
            if len(self.posted(channel)) >= count:
                return self.posted(channel)
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.posted(channel))} posts in {channel}, wanted {count}")

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        posted = sum(len(messages) for messages in self.messages.values()) + 1
        message = Message(
            # Slack's form: the time it was posted, made unique by a counter.
            ts=f"{int(time.time())}.{posted:06d}",
            text=str(args.get("text") or ""),
            blocks=_decoded(args.get("blocks")) or [],
            metadata=_decoded(args.get("metadata")),
            thread_ts=args.get("thread_ts"),
        )
        channel = str(args.get("channel"))
        self.messages.setdefault(channel, []).append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": message.as_slack(with_metadata=True),
        }

    def _find(self, args: dict[str, Any]) -> tuple[list[Message], Message] | None:
        messages = self.posted(str(args.get("channel")))
        for message in messages:
            if message.ts == args.get("ts"):
                return messages, message
        return None

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self._find(args)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        messages, message = found
        if message.ts in self.undeletable:
            return {"ok": False, "error": "cant_delete_message"}
        messages.remove(message)
        return {"ok": True, "channel": args.get("channel"), "ts": message.ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self._find(args)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        message = found[1]
        message.text = str(args.get("text") or "")
        message.blocks = _decoded(args.get("blocks")) or []
        return {"ok": True, "channel": args.get("channel"), "ts": message.ts}

    def _history(self, args: dict[str, Any], *, thread: str | None) -> dict[str, Any]:
        """conversations.history (top-level messages, newest first) or conversations.replies
        (the thread's parent and replies, oldest first)."""
        messages = self.posted(str(args.get("channel")))
        if thread is None:
            found = [m for m in reversed(messages) if m.thread_ts in (None, m.ts)]
        else:
            found = [m for m in messages if thread in (m.ts, m.thread_ts)]
        oldest = float(args.get("oldest") or 0)
        found = [m for m in found if float(m.ts) >= oldest]
        limit = int(args.get("limit") or 100)
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("next:")) if cursor else 0
        page = found[start : start + limit]
        following = f"next:{start + limit}" if start + limit < len(found) else ""
        with_metadata = _truthy(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [m.as_slack(with_metadata=with_metadata) for m in page],
            "has_more": bool(following),
            "response_metadata": {"next_cursor": following},
        }

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.members: `limit` ids from where `cursor` says, and the cursor of the
        next page (empty on the last), as Slack pages its lists."""
        channel = str(args.get("channel"))
        if channel not in self.channel_members:
            return {"ok": False, "error": "channel_not_found"}
        members = self.channel_members[channel]
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("next:")) if cursor else 0
        end = start + int(args.get("limit") or 100)
        following = f"next:{end}" if end < len(members) else ""
        return {
            "ok": True,
            "members": members[start:end],
            "response_metadata": {"next_cursor": following},
        }

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            return self._post(args)
        if method == "chat.delete":
            return self._delete(args)
        if method == "chat.update":
            return self._update(args)
        if method == "conversations.history":
            return self._history(args, thread=None)
        if method == "conversations.replies":
            return self._history(args, thread=str(args.get("ts")))
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args.get('users')}"}}
        if method in ("views.open", "views.update", "views.publish"):
            return {"ok": True, "view": {"id": f"V{len(self.calls)}", **_decoded(args["view"])}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{len(self.calls)}.000000"}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup"))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "conversations.members":
            return self._members(args)
        return {"ok": True, "ts": "1.000001", "channel": args.get("channel")}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
        args.update(request.query)  # GET methods (conversations.history...) send a query string
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if time.monotonic() < self.outage_until:
            self.calls.append(Call(f"{method}:500", args))
            return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
        if method == "chat.postMessage" and self.failing_posts > 0:
            self.failing_posts -= 1
            self.calls.append(Call(f"{method}:500", args))
            return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
        if method == "chat.postMessage" and self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            self.calls.append(Call(f"{method}:429", args))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        self.calls.append(Call(method, args, token=bearer))
        if method == "oauth.v2.access":  # Slack's OAuth: the code the consent page gave back
            granted = self.installs.get(str(args.get("code")))
            if granted is None or args.get("client_secret") != OAUTH_CLIENT_SECRET:
                return web.json_response({"ok": False, "error": "invalid_code"})
            team, token = granted
            return web.json_response(
                {
                    "ok": True,
                    "access_token": token,
                    "token_type": "bot",
                    "bot_user_id": f"UBOT{team}",
                    "team": {"id": team, "name": f"Workspace {team}"},
                }
            )
        if method == "apps.connections.open":
            assert self.server is not None
            url = str(self.server.make_url("/link")).replace("http://", "ws://")
            return web.json_response({"ok": True, "url": url})
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T061EG9R6"}
            )
        return web.json_response(self._answer(method, args))

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
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond", self._respond)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("/api/"))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
