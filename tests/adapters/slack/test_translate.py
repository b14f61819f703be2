"""The Slack translators against captured payloads from ../shared/fixtures/slack/."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from adapters.slack.translate import (
    MAX_SECTION_CHARS,
    blocks_for,
    escape,
    question_from_event,
    thread_of,
)
from adapters.slack.views import notice_message
from bot.assistant import Answer, Assistant, Clarify, Question
from bot.knowledge import Topic
from tests.bot.escalation.case_fixtures import alert_notice
from tests.bot.made_up import FRIENDS, PHOTOS, TAGGING, made_up_answer
from tests.conftest import captured_payload


def _event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = captured_payload("slack", name)["event"]
    return event


def test_a_direct_message_is_a_question() -> None:
    question = question_from_event(_event("event_message_im.json"), org="derbyshire")
    assert question == Question(
        org="derbyshire",
        text="Hello hello can you hear me?",
        asker="U2147483697",
        where="D024BE91L",
    )
    assert thread_of(_event("event_message_im.json")) is None


def test_a_mention_is_a_question_without_the_mention_answered_in_its_thread() -> None:
    event = _event("event_app_mention.json")
    question = question_from_event(event, org="wiltshire")
    assert question is not None
    assert question.text == "What is the hour of the pearl, ?"
    assert thread_of(event) == "1515449522.000016"


def test_plain_channel_messages_edits_and_bots_are_ignored() -> None:
    assert question_from_event(_event("event_message_channel.json"), org="derbyshire") is None
    im = _event("event_message_im.json")
    assert question_from_event({**im, "subtype": "message_changed"}, org="derbyshire") is None
    assert question_from_event({**im, "bot_id": "B1"}, org="derbyshire") is None
    assert question_from_event({**im, "text": "<@U0LAN0Z89>"}, org="derbyshire") is None


def test_a_mention_in_a_direct_message_is_answered_once_as_the_message() -> None:
    im = _event("event_message_im.json")
    mention = {**_event("event_app_mention.json"), "channel": im["channel"], "ts": im["ts"]}
    assert question_from_event(im, org="derbyshire") is not None
    assert question_from_event(mention, org="derbyshire") is None


def test_escape_makes_mentions_and_links_inert() -> None:
    assert escape("<!channel> <@U123> <https://x.test|click> & co") == (
        "&lt;!channel&gt; &lt;@U123&gt; &lt;https://x.test|click&gt; &amp; co"
    )


def test_an_answer_renders_quote_source_route_and_feedback(assistant: Assistant) -> None:
    reply = assistant.ask(
        Question(org="wiltshire", text="I posted something by mistake, what now?")
    )
    text, blocks = blocks_for(reply, asked_id="abc")
    assert "posted something in error" in text
    rendered = json.dumps(blocks)
    assert "> If you have posted something in error" in rendered
    assert "Personal use of social media" in rendered
    actions = blocks[-1]["elements"]
    assert [a["action_id"] for a in actions] == ["escalate", "feedback_up", "feedback_down"]
    assert actions[0]["text"]["text"] == "Report an incident"


def test_an_answer_shows_the_question_its_verdict_answers(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="derbyshire", text="can I friend a service user"))
    assert isinstance(reply, Answer) and reply.asks
    text, blocks = blocks_for(reply, asked_id="abc")
    first = blocks[0]["text"]["text"]
    assert first == f"_{escape(reply.asks)}_\n*{escape(reply.text)}*"
    assert text.startswith(f"{reply.asks} {reply.text}")


def test_a_clarify_offers_each_option_by_the_question_it_answers(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="west-dunbartonshire", text="social media"))
    assert isinstance(reply, Clarify)
    _, blocks = blocks_for(reply, asked_id="abc")
    options = [b for b in blocks if "clarify_" in b.get("accessory", {}).get("action_id", "")]
    assert len(options) == len(reply.options) and 1 <= len(options) <= 3
    for block, option in zip(options, reply.options, strict=True):
        assert option.clause.asks
        assert block["text"]["text"].startswith(escape(option.clause.asks))
        chosen = json.loads(block["accessory"]["value"])
        assert chosen == {"org": "west-dunbartonshire", "clause": option.clause.id}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _source(section: str) -> dict[str, Any]:
    text = f"{section} · Testshire Council, Social Media Policy"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def test_an_answer_with_nothing_else_that_applies_is_as_it_was() -> None:
    text, blocks = blocks_for(made_up_answer(), asked_id="abc")
    assert text == f"{FRIENDS.asks} {FRIENDS.answer}\n\u201c{FRIENDS.quote}\u201d (3.1)"
    assert blocks[:-1] == [
        _section(f"_{FRIENDS.asks}_\n*{FRIENDS.answer}*"),
        _section(f"> {FRIENDS.quote}"),
        _source("3.1"),
    ]
    assert blocks[-1]["type"] == "actions"


def test_clauses_that_also_apply_are_quoted_under_the_answer_with_their_markup_inert() -> None:
    alone_text, alone = blocks_for(made_up_answer(), asked_id="abc")
    text, blocks = blocks_for(made_up_answer(TAGGING, PHOTOS), asked_id="abc")
    assert blocks[:3] == alone[:3] and blocks[-1] == alone[-1]
    assert blocks[3:-1] == [
        _section("*Also relevant:*"),
        _section("_Can I tag &lt;@U123&gt; &amp; _others_?_"),
        # Slack's mrkdwn has no escape for * or _: only what could form a mention or a link
        # is made inert, as in the answer's own quote.
        _section(
            "> Never tag &lt;script&gt;alert(1)&lt;/script&gt; &amp; *colleagues* in "
            "&lt;!channel&gt; posts."
        ),
        _source("4.2"),
        _section("> Ask before you post a photo of anyone.\n> That includes colleagues."),
        _source("Appendix A"),
    ]
    # The notification text is mrkdwn too: no live mention or link from a quote there either.
    assert text == escape(
        f"{alone_text}\nAlso relevant:\n{TAGGING.asks} \u201c{TAGGING.quote}\u201d (4.2)\n"
        f"\u201c{PHOTOS.quote}\u201d (Appendix A)"
    )
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_a_long_quote_that_also_applies_is_cut_to_slacks_limit() -> None:
    long = dataclasses.replace(PHOTOS, quote="Ask first. " * 400)
    _, blocks = blocks_for(made_up_answer(long), asked_id="abc")
    quoted = blocks[-3]["text"]["text"]
    assert quoted.startswith("> Ask first.") and len(quoted) == MAX_SECTION_CHARS


def mrkdwn_objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "mrkdwn" else []
        return found + [each for value in node.values() for each in mrkdwn_objects(value)]
    if isinstance(node, list):
        return [each for value in node for each in mrkdwn_objects(value)]
    return []


def test_no_text_slack_shows_is_parsed_for_mentions_or_links(assistant: Assistant) -> None:
    """Security review L7: a bare @channel in what someone typed could reach Slack's parser.
    Every mrkdwn text is `verbatim` (Slack links and notifies nothing in it) besides escaped."""
    vague = assistant.ask(Question(org="wiltshire", text="social media"))
    answered = assistant.ask(Question(org="wiltshire", text="I posted something by mistake"))
    _, alert = notice_message(alert_notice(summary="@channel @here *bold* `code`"))
    for blocks in (blocks_for(vague, asked_id="a")[1], blocks_for(answered, asked_id="b")[1]):
        assert mrkdwn_objects(blocks) and all(t["verbatim"] is True for t in mrkdwn_objects(blocks))
    assert mrkdwn_objects(alert) and all(t["verbatim"] is True for t in mrkdwn_objects(alert))


def test_an_answer_on_a_shared_topic_links_to_the_comparison_where_the_server_is_reachable() -> (
    None
):
    topic = Topic(id="friend-requests", title="Friend requests <&>", asks="Can I friend?")
    answer = dataclasses.replace(made_up_answer(), compare=topic)
    _, unlinked = blocks_for(answer, asked_id="abc")
    assert unlinked == blocks_for(made_up_answer(), asked_id="abc")[1]
    _, blocks = blocks_for(answer, asked_id="abc", public_url="https://bot.example.gov.uk/")
    assert blocks[-2] == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "<https://bot.example.gov.uk/compare?topic=friend-requests|How other "
                "councils handle this: Friend requests &lt;&amp;&gt;>",
                "verbatim": True,
            }
        ],
    }
