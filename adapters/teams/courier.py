"""The courier: how the bot posts into Teams without being asked (alerts, thread updates,
redraws, removals), through the conversation references stored when it was installed or when
someone reported from their personal chat; `TeamsChannel` is the outbox worker's way in.

Teams deliveries are at-least-once in one window: the Bot Connector cannot list a conversation's
messages, so when a worker dies after Teams took a post but before the outbox recorded it, the
post cannot be found again (`already_sent` is always None) and the retry posts it a second time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from adapters.teams.cards import notice_activity
from adapters.teams.connector import retry_after, status_of
from bot.escalation.delivery import RetryLater
from bot.escalation.model import Delivery, Purpose, Removal
from bot.storage import Store


@contextlib.contextmanager
def waits_as_asked() -> Iterator[None]:
    """The Bot Connector still throttling after the connector's own retries: `RetryLater`, for
    as long as its `Retry-After` says, so that the outbox does not try again sooner."""
    try:
        yield
    except Exception as error:
        asked = retry_after(error) if status_of(error) == 429 else None
        if asked is None:
            raise
        raise RetryLater(asked) from error


class UnknownConversationError(LookupError):
    """No reference is stored for the conversation: the bot was never installed there, or the
    person never reported from that chat."""


@dataclass(frozen=True)
class TeamsOutbox:
    """Posts into a conversation the bot was installed in, without being asked: what the
    escalation alerts use. The reference comes from the database, stored at install."""

    adapter: CloudAdapter
    store: Store
    app_id: str | None

    async def post(
        self, conversation_id: str, activity: Activity, *, thread: str | None = None
    ) -> str:
        """Post `activity` and return the id Teams gave the message. With `thread` (the id of a
        message in a channel) the post is a reply in that message's thread. Raises
        `UnknownConversationError` when no reference is stored for the conversation."""
        message_ids: list[str] = []

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            message_ids.append(response.id if response and response.id else "")

        await self._in_conversation(conversation_id, thread, send)
        return message_ids[0]

    async def update(self, conversation_id: str, message_id: str, activity: Activity) -> None:
        """Replace the content of a message the bot posted (an alert card, redrawn)."""

        async def update(turn_context: TurnContext) -> None:
            activity.id = message_id
            await turn_context.update_activity(activity)

        await self._in_conversation(conversation_id, None, update)

    async def remove(
        self,
        conversation_id: str,
        message_id: str,
        *,
        thread: str | None = None,
        tombstone: Activity,
    ) -> bool:
        """Delete a message the bot posted: True when deleted (or already gone), False when
        Teams refused and its content was replaced by `tombstone` instead."""
        deleted: list[bool] = []

        async def remove(turn_context: TurnContext) -> None:
            try:
                await turn_context.delete_activity(message_id)
                deleted.append(True)
            except Exception as error:
                status = status_of(error)
                if status == 404:  # already gone
                    deleted.append(True)
                    return
                if status != 403:
                    raise
                tombstone.id = message_id
                await turn_context.update_activity(tombstone)
                deleted.append(False)

        await self._in_conversation(conversation_id, thread, remove)
        return deleted[0]

    async def _in_conversation(
        self,
        conversation_id: str,
        thread: str | None,
        work: Callable[[TurnContext], Awaitable[None]],
    ) -> None:
        stored = await self.store.conversation(platform="teams", conversation_id=conversation_id)
        if stored is None:
            raise UnknownConversationError("no conversation reference stored")
        reference = ConversationReference().deserialize(json.loads(stored))
        if thread:
            # How Teams addresses a channel thread: the channel's id with the root message's.
            reference.conversation.id = f"{conversation_id};messageid={thread}"
        await self.adapter.continue_conversation(reference, work, bot_app_id=self.app_id)


@dataclass(frozen=True)
class TeamsChannel:
    """The outbox worker's way into Teams (`bot.escalation.delivery.Channel`). An address is a
    conversation whose reference was stored when the bot was installed there (a team channel) or
    when someone reported from their personal chat; a conversation without one raises, and is
    retried later."""

    outbox: TeamsOutbox

    async def send(self, delivery: Delivery) -> str:
        with waits_as_asked():
            return await self._send(delivery)

    async def _send(self, delivery: Delivery) -> str:
        if delivery.notice.purpose is Purpose.REFRESH:
            assert delivery.thread is not None  # the outbox holds a refresh until its alert is out
            await self.outbox.update(
                delivery.address, delivery.thread, notice_activity(delivery.notice)
            )
            return delivery.thread
        return await self.outbox.post(
            delivery.address, notice_activity(delivery.notice), thread=delivery.thread
        )

    async def already_sent(self, delivery: Delivery) -> str | None:
        # The Bot Connector cannot list a conversation's messages: see the module's docstring.
        return None

    async def remove(self, delivery: Delivery) -> Removal:
        with waits_as_asked():
            return await self._remove(delivery)

    async def _remove(self, delivery: Delivery) -> Removal:
        assert delivery.removes is not None
        tombstone = Activity(
            type=ActivityTypes.message, text=delivery.notice.summary, text_format="plain"
        )
        deleted = await self.outbox.remove(
            delivery.address, delivery.removes, thread=delivery.thread, tombstone=tombstone
        )
        return Removal.DELETED if deleted else Removal.TOMBSTONED
