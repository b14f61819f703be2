"""A local fake of the Bot Connector: an aiohttp server on a free port that stands in for the
`serviceUrl` of captured Teams activities and records what the bot posts."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeConnector:
    """Records what the bot posts, as (path, activity). The n-th accepted post (from 1) gets the
    message id `reply-n`. `failures` holds the answers to give before accepting one: a status
    and the headers to send with it (429 with Retry-After, 503...)."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, Any]]] = []
        self.attempts = 0
        self.failures: list[tuple[int, dict[str, str]]] = []
        # Message ids deleted (DELETE) and replaced (PUT, with the new activity).
        self.deleted: list[str] = []
        self.updated: list[tuple[str, dict[str, Any]]] = []
        # DELETE answers 403 for these ids, as Teams does where a policy keeps messages.
        self.undeletable: set[str] = set()
        # GET .../members/{user}: each team's (or conversation's) members, as TeamsChannelAccount
        # JSON ({"id": "29:...", "aadObjectId": ..., "name": ...}); a user found under neither
        # id is a 404. `member_lookups` records what was asked, as (team, user).
        self.team_members: dict[str, list[dict[str, Any]]] = {}
        self.member_lookups: list[tuple[str, str]] = []
        self.server: TestServer | None = None

    async def _activity(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.json()
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=status, headers=headers
            )
        self.posted.append((request.path, body))
        return web.json_response({"id": self.message_id(len(self.posted))})

    async def _delete(self, request: web.Request) -> web.Response:
        message = request.match_info["reply"]
        if message in self.undeletable:
            return web.json_response({"error": {"code": "Forbidden"}}, status=403)
        self.deleted.append(message)
        return web.Response(status=200)

    async def _update(self, request: web.Request) -> web.Response:
        message = request.match_info["reply"]
        self.updated.append((message, await request.json()))
        return web.json_response({"id": message})

    async def _member(self, request: web.Request) -> web.Response:
        team, user = request.match_info["conversation"], request.match_info["member"]
        self.member_lookups.append((team, user))
        for member in self.team_members.get(team, []):
            if user in (member.get("id"), member.get("aadObjectId")):
                return web.json_response(member)
        return web.json_response(
            {"error": {"code": "NotFound", "message": "The member was not found."}}, status=404
        )

    @staticmethod
    def message_id(position: int) -> str:
        """The id the fake gave the post at `position` (from 1) in `posted`."""
        return f"reply-{position}"

    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return str(self.server.make_url("/"))

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", self._activity)
        app.router.add_delete("/v3/conversations/{conversation}/activities/{reply}", self._delete)
        app.router.add_put("/v3/conversations/{conversation}/activities/{reply}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self.url

    async def wait(self, count: int = 1) -> list[tuple[str, dict[str, Any]]]:
        for _ in range(200):
            if len(self.posted) >= count:
                return self.posted
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.posted)} activities posted, wanted {count}")
