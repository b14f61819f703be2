"""Who is in a Slack channel, for desks that let their channel's members act on its cases."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import ClientError
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

# A burst of clicks on one alert would otherwise ask Slack for the same channel's members each
# time, and conversations.members is rate limited; someone who leaves the channel can still act
# for this long.
CHANNEL_MEMBERS_TTL_SECONDS = 60.0

log = logging.getLogger("policybot.slack")

CHANNEL_MEMBERS_PAGE_SIZE = 200  # Slack's advice for paginated methods


class ChannelMembers:
    """Who is in a Slack channel, as `conversations.members` says (every page of it),
    remembered for `ttl_seconds` by `clock`. A lookup that fails or is cut short is not
    remembered."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl_seconds: float = CHANNEL_MEMBERS_TTL_SECONDS,
        page_size: int = CHANNEL_MEMBERS_PAGE_SIZE,
    ) -> None:
        self._clock = clock
        self._ttl_seconds = ttl_seconds
        self._page_size = page_size
        self._known: dict[str, tuple[float, frozenset[str]]] = {}

    async def includes(self, client: AsyncWebClient, *, channel: str, user: str) -> bool | None:
        """Whether `user` is in `channel`; None when Slack did not say (an error, such as the
        bot not being in a private channel)."""
        members = await self._members(client, channel)
        return None if members is None else user in members

    async def _members(self, client: AsyncWebClient, channel: str) -> frozenset[str] | None:
        asked_at = self._clock()
        known = self._known.get(channel)
        if known is not None and asked_at - known[0] < self._ttl_seconds:
            return known[1]
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                page = await client.conversations_members(
                    channel=channel, limit=self._page_size, cursor=cursor
                )
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if cursor is None:
                    break
        except (SlackClientError, ClientError) as exc:
            log.warning("channel %s members lookup failed (%s)", channel, type(exc).__name__)
            return None
        found = frozenset(members)
        self._known[channel] = (asked_at, found)
        return found
