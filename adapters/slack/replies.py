"""Answers Slack did not take, tried again (security review L3: a direct message asked while
Slack's Web API was failing was claimed, answered, and the answer lost; Slack does not send an
event again once it was acknowledged).

A reply that fails for a reason worth retrying (throttled, a server error, the connection) is
sent again in the background on a schedule of about half an hour, so an outage delays an answer
instead of losing it. The waiting replies are kept in memory: a restart during an outage loses
them, and says how many.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError

log = logging.getLogger("policybot.slack")

# Seconds before each further try: about 29 minutes in all.
REPLY_WAITS = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 300.0, 300.0, 600.0)

Post = Callable[[], Awaitable[Any]]


def worth_retrying(error: BaseException) -> bool:
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return status == 429 or status >= 500
    return isinstance(error, ClientError | OSError | TimeoutError)


class Replies:
    """Posts replies, and keeps trying those Slack would not take just now."""

    def __init__(self, waits: Sequence[float] = REPLY_WAITS) -> None:
        self._waits = tuple(waits)
        self._waiting: set[asyncio.Task[None]] = set()

    async def send(self, post: Post) -> None:
        try:
            await post()
        except Exception as exc:
            if not worth_retrying(exc):
                raise
            log.warning("reply not taken by Slack (%s); trying again", type(exc).__name__)
            task = asyncio.create_task(self._again(post), name="policybot-slack-reply")
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)

    async def _again(self, post: Post) -> None:
        for tries, wait in enumerate(self._waits, start=2):
            await asyncio.sleep(wait)
            try:
                await post()
            except Exception as exc:
                if not worth_retrying(exc):
                    log.warning("reply not delivered (%s)", type(exc).__name__)
                    return
                continue
            log.info("reply delivered after an outage", extra={"tries": tries})
            return
        log.error("reply not delivered: Slack did not take it for %.0f s", sum(self._waits))

    async def close(self) -> None:
        """Stop trying: the server is stopping."""
        if self._waiting:
            log.warning("stopping with %d replies not yet delivered", len(self._waiting))
        for task in list(self._waiting):
            task.cancel()
        await asyncio.gather(*self._waiting, return_exceptions=True)
