"""The courier: `SlackChannel`, through which the outbox worker posts the core's notices
(alerts, reminders, thread updates, the reporter's direct messages), redraws alerts and removes
messages when a case is purged.

Every message carries its outbox id as message metadata, so that after a crash the worker can
ask Slack whether a delivery already went out instead of posting it twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import MAX_SECTION_CHARS, escape
from adapters.slack.views import clip, notice_message, section
from bot.escalation.delivery import RetryLater
from bot.escalation.model import Delivery, Purpose, Removal

OUTBOX_EVENT_TYPE = "policybot_outbox"


# Slack's advised page size; history is read only back to when the delivery was queued, and at
# most this many pages (200,000 messages in one channel since: the check gives up, and posts).
HISTORY_PAGE = 200
MAX_HISTORY_PAGES = 1000


# What chat.delete answers where the message may not be deleted, so is blanked instead.
UNDELETABLE = ("cant_delete_message", "compliance_exports_prevent_deletion")


@contextlib.contextmanager
def waits_as_asked() -> Iterator[None]:
    """Slack still throttling after the client's own retries: `RetryLater`, for as long as its
    `Retry-After` says, so that the outbox does not try again sooner."""
    try:
        yield
    except SlackApiError as exc:
        if exc.response.status_code != 429:
            raise
        headers = {name.casefold(): value for name, value in exc.response.headers.items()}
        try:
            seconds = float(headers.get("retry-after", 1))
        except ValueError:
            seconds = 1.0
        raise RetryLater(seconds) from exc


class SlackChannel:
    """The outbox worker's way to Slack: channel alerts and thread updates post to the
    delivery's channel id, reporter notices to a direct message with the delivery's user id."""

    def __init__(
        self,
        client: AsyncWebClient,
        tokens: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        self._client = client
        # With many workspaces: the bot token of the workspace a council installed.
        self._tokens = tokens

    async def _as(self, delivery: Delivery) -> dict[str, Any]:
        """The token to post a council's notice with, where workspaces have their own."""
        token = await self._tokens(delivery.notice.org) if self._tokens else None
        return {"token": token} if token else {}

    # The token is looked up once per delivery, however many calls the delivery makes.
    async def send(self, delivery: Delivery) -> str:
        auth = await self._as(delivery)
        with waits_as_asked():
            return await self._send(delivery, auth)

    async def already_sent(self, delivery: Delivery) -> str | None:
        auth = await self._as(delivery)
        with waits_as_asked():
            return await self._already_sent(delivery, auth)

    async def remove(self, delivery: Delivery) -> Removal:
        auth = await self._as(delivery)
        with waits_as_asked():
            return await self._remove(delivery, auth)

    async def _send(self, delivery: Delivery, auth: dict[str, Any]) -> str:
        text, blocks = notice_message(delivery.notice)
        if delivery.notice.purpose is Purpose.REFRESH:
            assert delivery.thread is not None  # the outbox holds a refresh until its alert is out
            await self._client.chat_update(
                **auth,
                channel=delivery.address,
                ts=delivery.thread,
                text=text,
                blocks=blocks,
            )
            return delivery.thread
        posted = await self._client.chat_postMessage(
            **auth,
            channel=await self._conversation(delivery, auth),
            text=text,
            blocks=blocks,
            thread_ts=delivery.thread,
            metadata={"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"outbox_id": delivery.id}},
            # Evidence links are posts under investigation: not previewed in the team channel.
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(posted["ts"])

    async def _already_sent(self, delivery: Delivery, auth: dict[str, Any]) -> str | None:
        """The message posted for this delivery before a crash, if any: the history is read
        page by page back to when the delivery was queued, since a busy channel may have had
        more than a page of messages since (security review M2)."""
        channel = await self._conversation(delivery, auth)
        # A minute's slack for a server clock a little ahead of Slack's.
        oldest = f"{delivery.queued_at.timestamp() - 60:.6f}" if delivery.queued_at else "0"
        cursor = None
        for _ in range(MAX_HISTORY_PAGES):
            if delivery.thread:
                found = await self._client.conversations_replies(
                    **auth,
                    channel=channel,
                    ts=delivery.thread,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    oldest=oldest,
                    cursor=cursor,
                )
            else:
                found = await self._client.conversations_history(
                    **auth,
                    channel=channel,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    oldest=oldest,
                    cursor=cursor,
                )
            for message in found.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == OUTBOX_EVENT_TYPE
                    and payload.get("outbox_id") == delivery.id
                ):
                    return str(message["ts"])
            cursor = (found.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def _remove(self, delivery: Delivery, auth: dict[str, Any]) -> Removal:
        assert delivery.removes is not None
        channel = await self._conversation(delivery, auth)
        try:
            await self._client.chat_delete(**auth, channel=channel, ts=delivery.removes)
            return Removal.DELETED
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "message_not_found":  # deleted already, by us or by someone in Slack
                return Removal.DELETED
            # A workspace may forbid deleting (retention or compliance settings): the message
            # stays, its content does not.
            if error not in UNDELETABLE:
                raise
        text = clip(escape(delivery.notice.summary), MAX_SECTION_CHARS)
        await self._client.chat_update(
            **auth,
            channel=channel,
            ts=delivery.removes,
            text=text,
            blocks=[section(text)],
        )
        return Removal.TOMBSTONED

    async def _conversation(self, delivery: Delivery, auth: dict[str, Any]) -> str:
        if not delivery.direct:
            return delivery.address
        # A reporter is addressed by user id; conversations.open gives (or reopens) the DM.
        opened = await self._client.conversations_open(**auth, users=delivery.address)
        return str(opened["channel"]["id"])
