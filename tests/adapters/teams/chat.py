"""A person in a Teams chat with the bot, for tests that read like the conversation they check.

It talks to the bot through botbuilder's own TestAdapter (no connector, no network): what it says
goes in as a message activity, a card button it presses as the `adaptiveCard/action` invoke
Teams sends, and it reads back the bot's reply or the card the bot answers the click with.

    chat = TeamsChat(adapter)
    card = await chat.says("social media")
    answer = await chat.clicks("clarify", on=card)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount


def card_of(activity: Activity) -> dict[str, Any]:
    """The Adaptive Card an activity carries."""
    assert activity.attachments, activity.text
    content = activity.attachments[0].content
    assert isinstance(content, dict)
    return content


def actions(node: Any) -> list[dict[str, Any]]:
    """Every Action.Execute in a card, wherever it sits (card actions or an ActionSet)."""
    if isinstance(node, list):
        return [action for item in node for action in actions(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "Action.Execute" else []
    return found + [action for value in node.values() for action in actions(value)]


@dataclass
class TeamsChat:
    """One person's personal chat with the bot."""

    adapter: TestAdapter
    user: ChannelAccount = field(
        default_factory=lambda: ChannelAccount(id="user-1", aad_object_id="aad-1")
    )
    conversation: ConversationAccount = field(
        default_factory=lambda: ConversationAccount(id="conv-1", conversation_type="personal")
    )
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def message(self, text: str, *, activity_id: str | None = None) -> Activity:
        return Activity(
            type=ActivityTypes.message,
            id=activity_id or f"m{next(self._ids)}",
            text=text,
            from_property=self.user,
            recipient=ChannelAccount(id="bot-1"),
            conversation=self.conversation,
            channel_id="msteams",
        )

    async def sends(self, activity: Activity) -> Activity | None:
        """Sends an activity as Teams would; the bot's reply, if any."""
        await self.adapter.send(activity)
        reply: Activity | None = self.adapter.get_next_activity()
        return reply

    async def says(self, text: str, *, activity_id: str | None = None) -> Activity | None:
        return await self.sends(self.message(text, activity_id=activity_id))

    async def clicks(self, verb: str, *, on: dict[str, Any]) -> dict[str, Any]:
        """Presses the card's first button with `verb`; the card the bot answers with."""
        pressed = next(action for action in actions(on) if action["verb"] == verb)
        invoke = Activity(
            type=ActivityTypes.invoke,
            name="adaptiveCard/action",
            id=f"inv{next(self._ids)}",
            value={"action": {"type": "Action.Execute", "verb": verb, "data": pressed["data"]}},
            from_property=self.user,
            recipient=ChannelAccount(id="bot-1"),
            conversation=self.conversation,
            channel_id="msteams",
        )
        response = await self.sends(invoke)
        assert response is not None and response.type == "invokeResponse"
        body = response.value.body
        updated = body.value if hasattr(body, "value") else body["value"]
        assert isinstance(updated, dict)
        return updated
