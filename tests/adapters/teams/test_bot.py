"""The Teams conversation logic with botbuilder's own TestAdapter: no connector, no network."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from adapters.config import Settings
from adapters.teams.bot import PolicyBot
from bot.assistant import Assistant
from bot.escalation.cases import Cases
from bot.storage import Store
from tests.conftest import captured_payload


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    made = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'teams.sqlite3'}")
    await made.create_tables()
    await made.start()
    yield made
    await made.close()


@pytest.fixture
def adapter(assistant: Assistant, store: Store) -> TestAdapter:
    settings = Settings(default_org="derbyshire")
    cases = Cases(store, assistant.knowledge.policies, settings.directory())
    bot = PolicyBot(assistant=assistant, store=store, settings=settings, cases=cases)
    return TestAdapter(bot.on_turn)


def _message(text: str, activity_id: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        id=activity_id,
        text=text,
        from_property=ChannelAccount(id="user-1", aad_object_id="aad-1"),
        recipient=ChannelAccount(id="bot-1"),
        conversation=ConversationAccount(id="conv-1", conversation_type="personal"),
        channel_id="msteams",
    )


def _card(activity: Activity) -> dict[str, Any]:
    assert activity.attachments, activity.text
    content = activity.attachments[0].content
    assert isinstance(content, dict)
    return content


async def test_a_personal_question_gets_a_card_with_the_verbatim_quote(
    adapter: TestAdapter,
) -> None:
    await adapter.send(_message("can I friend a service user?", "a1"))
    reply = adapter.get_next_activity()
    card = _card(reply)
    assert card["version"] == "1.5"
    assert "friend" in json.dumps(card).lower()
    assert reply.text  # the plain summary


async def test_a_redelivered_activity_gets_no_second_reply(adapter: TestAdapter) -> None:
    await adapter.send(_message("can I friend a service user?", "same-id"))
    assert adapter.get_next_activity() is not None
    await adapter.send(_message("can I friend a service user?", "same-id"))
    assert adapter.get_next_activity() is None


def _actions(node: Any) -> list[dict[str, Any]]:
    """Every Action.Execute in a card, wherever it sits (card actions or an ActionSet)."""
    if isinstance(node, list):
        return [action for item in node for action in _actions(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "Action.Execute" else []
    return found + [action for value in node.values() for action in _actions(value)]


async def test_card_actions_answer_in_place(adapter: TestAdapter, store: Store) -> None:
    await adapter.send(_message("social media", "vague"))
    card = _card(adapter.get_next_activity())
    clarify = next(a for a in _actions(card) if a["verb"] == "clarify")
    invoke = Activity(
        type=ActivityTypes.invoke,
        name="adaptiveCard/action",
        id="inv-1",
        value={"action": {"type": "Action.Execute", "verb": "clarify", "data": clarify["data"]}},
        from_property=ChannelAccount(id="user-1"),
        recipient=ChannelAccount(id="bot-1"),
        conversation=ConversationAccount(id="conv-1", conversation_type="personal"),
        channel_id="msteams",
    )
    await adapter.send(invoke)
    response = adapter.get_next_activity()
    assert response.type == "invokeResponse"
    body = response.value.body
    updated = body.value if hasattr(body, "value") else body["value"]
    assert updated["version"] == "1.5"
    assert "TextRun" in json.dumps(updated)


async def test_channel_messages_need_a_mention(adapter: TestAdapter) -> None:
    message = _message("can I friend a service user?", "c1")
    message.conversation = ConversationAccount(
        id="19:x@thread.tacv2;messageid=1", conversation_type="channel"
    )
    await adapter.send(message)
    assert adapter.get_next_activity() is None


def _fixture(name: str) -> Activity:
    return Activity().deserialize(captured_payload("teams", name))


async def test_installing_in_a_team_stores_the_conversation_reference(
    adapter: TestAdapter, store: Store
) -> None:
    installed = _fixture("conversation_update_bot_added_team.json")
    await adapter.send(installed)
    assert adapter.get_next_activity() is None  # no chatter in the team channel
    stored = await store.conversation(platform="teams", conversation_id=installed.conversation.id)
    assert stored is not None
    reference = json.loads(stored)
    assert reference["serviceUrl"] == installed.service_url
    assert reference["conversation"]["id"] == installed.conversation.id


async def test_installing_in_personal_chat_says_hello(adapter: TestAdapter) -> None:
    added = Activity(
        type=ActivityTypes.installation_update,
        action="add",
        from_property=ChannelAccount(id="user-1"),
        recipient=ChannelAccount(id="bot-1"),
        conversation=ConversationAccount(id="personal-1", conversation_type="personal"),
        channel_id="msteams",
    )
    await adapter.send(added)
    welcome = adapter.get_next_activity()
    assert welcome is not None and "social media policy" in welcome.text
