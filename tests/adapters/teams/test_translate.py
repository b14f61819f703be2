"""The Teams translators against the captured activities in ../shared/fixtures/teams/."""

from __future__ import annotations

import dataclasses
import json

from botbuilder.schema import Activity

from adapters.teams.translate import (
    CARD_CONTENT_TYPE,
    activity_for,
    card_for,
    plain_text,
    question_from_activity,
    summary_of,
    tenant_of,
)
from bot.assistant import Answer, Assistant, Clarify, Question
from bot.knowledge import Topic
from tests.bot.made_up import FRIENDS, PHOTOS, TAGGING, made_up_answer
from tests.conftest import captured_payload


def activity(name: str) -> Activity:
    return Activity().deserialize(captured_payload("teams", name))


def test_any_personal_message_is_a_question() -> None:
    question = question_from_activity(activity("message_personal.json"), org="derbyshire")
    assert question is not None
    assert question.text == "Hello Teams TestBot.Sending bold-italic rich text"
    assert tenant_of(activity("message_personal.json")) == "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_a_channel_mention_is_a_question_without_the_mention() -> None:
    mention = activity("message_channel_mention.json")
    question = question_from_activity(mention, org="wiltshire")
    assert question is not None and question.text == "reply to thread"
    assert tenant_of(mention) == "50612dbb-0237-4969-b378-8d42590f9c00"


def test_a_channel_message_without_a_mention_and_card_submits_are_not_questions() -> None:
    plain = activity("message_channel_mention.json")
    plain.entities = [e for e in plain.entities if e.type != "mention"]
    assert question_from_activity(plain, org="wiltshire") is None
    submitted = activity("message_personal.json")
    submitted.value = {"verb": "feedback"}
    assert question_from_activity(submitted, org="wiltshire") is None


def _texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "TextRun" else []
        for value in node.values():
            found += _texts(value)
        return found
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def test_an_answer_card_is_schema_1_5_data_with_the_verbatim_quote(assistant: Assistant) -> None:
    reply = assistant.ask(
        Question(org="gloucestershire", text="I'm being cyber bullied by a colleague")
    )
    card = card_for(reply, asked_id="abc")
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    texts = _texts(card)
    assert reply.matches[0].clause.quote in texts
    assert any("Gloucestershire County Council" in t for t in texts)
    verbs = [a["verb"] for a in card["actions"]]
    assert verbs == ["escalate", "feedback", "feedback"]
    assert card["actions"][0]["title"] == "Talk to HR"
    sent = activity_for(reply, asked_id="abc")
    assert sent.text and sent.attachments[0].content_type == CARD_CONTENT_TYPE


def test_no_text_block_carries_markdown_a_person_could_inject(assistant: Assistant) -> None:
    reply = assistant.ask(
        Question(org="west-dunbartonshire", text="[click](https://evil.test) <at>all</at>")
    )
    card = card_for(reply, asked_id="abc")
    assert '"TextBlock"' not in json.dumps(card)  # only TextRuns, which Teams never parses


def test_an_answer_card_shows_the_question_its_verdict_answers(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="derbyshire", text="can I friend a service user"))
    assert isinstance(reply, Answer) and reply.asks
    card = card_for(reply, asked_id="abc")
    assert _texts(card)[:2] == [reply.asks, reply.text]
    assert summary_of(reply).startswith(f"{reply.asks} {reply.text}")


def test_a_clarify_card_offers_each_option_by_the_question_it_answers(
    assistant: Assistant,
) -> None:
    reply = assistant.ask(Question(org="west-dunbartonshire", text="social media"))
    assert isinstance(reply, Clarify)
    card = card_for(reply, asked_id="abc")
    options = [item for item in card["body"] if item["type"] == "Container"]
    assert len(options) == len(reply.options) and 1 <= len(options) <= 3
    for container, option in zip(options, reply.options, strict=True):
        assert option.clause.asks and _texts(container)[0] == option.clause.asks
        (action,) = container["items"][-1]["actions"]
        assert action["verb"] == "clarify"
        assert action["data"] == {"org": "west-dunbartonshire", "clause": option.clause.id}


SOURCE = "{} · Testshire Council, Social Media Policy"


def test_an_answer_card_with_nothing_else_that_applies_is_as_it_was() -> None:
    card = card_for(made_up_answer(), asked_id="abc")
    assert _texts(card["body"]) == [
        FRIENDS.asks,
        FRIENDS.answer,
        FRIENDS.quote,
        SOURCE.format("3.1"),
    ]
    assert card["body"][2] == {
        "type": "Container",
        "style": "emphasis",
        "items": [plain_text(FRIENDS.quote, italic=True)],
    }
    assert summary_of(made_up_answer()) == f"{FRIENDS.asks} {FRIENDS.answer} (3.1)"


def test_clauses_that_also_apply_are_quoted_under_the_answer_as_text_runs() -> None:
    alone = card_for(made_up_answer(), asked_id="abc")
    answer = made_up_answer(TAGGING, PHOTOS)
    card = card_for(answer, asked_id="abc")
    shown = len(alone["body"])
    assert card["body"][:shown] == alone["body"] and card["actions"] == alone["actions"]
    also = card["body"][shown:]
    assert _texts(also) == [
        "Also relevant:",
        TAGGING.asks,
        TAGGING.quote,
        SOURCE.format("4.2"),
        PHOTOS.quote,
        SOURCE.format("Appendix A"),
    ]
    assert also[1]["inlines"] == [{"type": "TextRun", "text": TAGGING.asks, "italic": True}]
    # Each quote is set like the answer's own, in TextRuns that Teams never reads as markdown.
    assert also[2] == {**alone["body"][2], "items": [plain_text(TAGGING.quote, italic=True)]}
    assert '"TextBlock"' not in json.dumps(card)
    assert summary_of(answer) == (
        f"{FRIENDS.asks} {FRIENDS.answer} (3.1) Also relevant: {TAGGING.asks} (4.2); "
        f"{PHOTOS.label} (Appendix A)"
    )


def test_an_answer_on_a_shared_topic_opens_the_comparison_where_the_server_is_reachable() -> None:
    topic = Topic(id="friend-requests", title="Friend requests", asks="Can I friend?")
    answer = dataclasses.replace(made_up_answer(), compare=topic)
    assert card_for(answer, asked_id="abc") == card_for(made_up_answer(), asked_id="abc")
    card = card_for(answer, asked_id="abc", public_url="https://bot.example.gov.uk")
    assert {
        "type": "Action.OpenUrl",
        "title": "How other councils handle this",
        "url": "https://bot.example.gov.uk/compare?topic=friend-requests",
    } in card["actions"]
