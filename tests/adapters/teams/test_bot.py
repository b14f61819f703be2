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
from tests.adapters.teams.chat import TeamsChat, card_of
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


async def test_a_personal_question_gets_a_card_with_the_verbatim_quote(
    adapter: TestAdapter,
) -> None:
    reply = await TeamsChat(adapter).says("can I friend a service user?")
    assert reply is not None
    card = card_of(reply)
    assert card["version"] == "1.5"
    assert "friend" in json.dumps(card).lower()
    assert reply.text  # the plain summary


async def test_a_redelivered_activity_gets_no_second_reply(adapter: TestAdapter) -> None:
    chat = TeamsChat(adapter)
    assert await chat.says("can I friend a service user?", activity_id="same-id") is not None
    assert await chat.says("can I friend a service user?", activity_id="same-id") is None


async def test_card_actions_answer_in_place(adapter: TestAdapter) -> None:
    chat = TeamsChat(adapter)
    offered = await chat.says("social media")
    assert offered is not None
    answer = await chat.clicks("clarify", on=card_of(offered))
    assert answer["version"] == "1.5"
    assert "TextRun" in json.dumps(answer)


async def test_channel_messages_need_a_mention(adapter: TestAdapter) -> None:
    in_channel = ConversationAccount(
        id="19:x@thread.tacv2;messageid=1", conversation_type="channel"
    )
    assert await TeamsChat(adapter, conversation=in_channel).says("can I friend a client?") is None


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


@pytest.mark.parametrize(
    ("verb", "data"),
    [
        ("clarify", {}),
        ("clarify", {"org": "derbyshire", "clause": "no-such-clause"}),
        ("feedback", {"helpful": True}),
        ("escalate", {"org": "atlantis", "route": "hr"}),
        ("case_ack", {"reference": None}),
    ],
)
async def test_a_button_with_data_it_cannot_use_gets_a_plain_card_never_an_error(
    adapter: TestAdapter, verb: str, data: dict[str, Any]
) -> None:
    """Security review L1: a Teams invoke with missing or odd data was a 500."""
    card = await TeamsChat(adapter).clicks(
        verb, on={"type": "Action.Execute", "verb": verb, "data": data}
    )
    assert card["type"] == "AdaptiveCard"
