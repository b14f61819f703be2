"""Slack payloads to the core's `Question`, and the core's `Reply` to Block Kit.

Two small pure translators, unit-tested against captured payloads; the Bolt wiring that calls
them (events, slash command, interactivity) sits beside them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.assistant import Answer, Clarify, Question, Reply
from bot.comparison import comparison_path
from bot.knowledge import Clause, Route
from bot.matcher import Match

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
ROUTE_BUTTONS = {Route.HR: "Talk to HR", Route.COMMS: "Report an incident"}
MAX_SECTION_CHARS = 3000  # Block Kit's limit for a section's text


def escape(text: str) -> str:
    """Slack's control characters in user or policy text, made inert: no `<!channel>`,
    `<@U…>` or `<url|label>` from a question or a quote ever becomes a live mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def question_from_event(event: Mapping[str, Any], *, org: str) -> Question | None:
    """The question in a `message` (DM) or `app_mention` event, or None when there is none to
    answer: the bot's own or another bot's message, an edit, a deletion, an empty mention."""
    # Any subtype (message_changed, bot_message, message_deleted, channel_join...) is not a
    # person asking something new; nor is a message carrying a bot id.
    if event.get("bot_id") or event.get("subtype"):
        return None
    if event.get("type") == "message" and event.get("channel_type") != "im":
        return None  # channel messages are answered only when they mention the bot
    if event.get("type") == "app_mention" and str(event.get("channel") or "").startswith("D"):
        # A mention in a direct message also arrives as that DM's `message` event, under
        # another event id: answering both would answer twice (security review L2).
        return None
    text = " ".join(_MENTION.sub(" ", str(event.get("text") or "")).split())
    user = event.get("user")
    if not text or not user:
        return None
    return Question(org=org, text=text, asker=str(user), where=str(event.get("channel") or ""))


def thread_of(event: Mapping[str, Any]) -> str | None:
    """Where a reply to a channel mention goes: the thread it is in, or a new one under it."""
    if event.get("channel_type") == "im":
        return None
    return str(event.get("thread_ts") or event.get("ts") or "") or None


def blockquote(text: str) -> str:
    """`text` escaped and quoted line by line, as Slack's mrkdwn quotes."""
    return "\n".join(f"> {line}" for line in escape(text).splitlines() or [""])


def _quote(text: str) -> str:
    return blockquote(text)[:MAX_SECTION_CHARS]


def _source(section: str, reply: Reply) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "verbatim": True,
                "text": escape(f"{section} · {reply.policy.council}, {reply.policy.title}"),
            }
        ],
    }


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn, "verbatim": True}}


def _quoted(clause: Clause, reply: Reply) -> list[dict[str, Any]]:
    """A clause's words as the policy has them, then where they stand in it."""
    return [_section(_quote(clause.quote)), _source(clause.section, reply)]


def _plain_text(reply: Answer) -> str:
    """The answer with its quotes, for the plain `text` of the message."""

    def asked(asks: str | None, text: str) -> str:
        return f"{asks} {text}" if asks else text

    def cited(clause: Clause) -> str:
        return f"\u201c{clause.quote}\u201d ({clause.section})"

    lines = [asked(reply.asks, reply.text), cited(reply.clause)]
    if reply.also:
        lines.append("Also relevant:")
        lines += [asked(m.clause.asks, cited(m.clause)) for m in reply.also]
    return "\n".join(lines)


def _also(reply: Answer) -> list[dict[str, Any]]:
    """The other clauses that apply, each under the question it answers."""
    if not reply.also:
        return []
    blocks = [_section("*Also relevant:*")]
    for match in reply.also:
        if match.clause.asks:
            blocks.append(_section(f"_{escape(match.clause.asks)}_"))
        blocks.extend(_quoted(match.clause, reply))
    return blocks


def _compare(reply: Answer, public_url: str | None) -> list[dict[str, Any]]:
    if reply.compare is None or public_url is None:
        return []
    url = public_url.rstrip("/") + comparison_path(reply.compare)
    link = f"<{url}|How other councils handle this: {escape(reply.compare.title)}>"
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": link, "verbatim": True}]}]


def _feedback(asked_id: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "button",
            "action_id": "feedback_up",
            "text": {"type": "plain_text", "text": ":thumbsup: Helpful", "emoji": True},
            "value": asked_id,
        },
        {
            "type": "button",
            "action_id": "feedback_down",
            "text": {"type": "plain_text", "text": ":thumbsdown: Not helpful", "emoji": True},
            "value": asked_id,
        },
    ]


def _answer_text(reply: Answer) -> str:
    """The answer under the question its verdict answers, so that "No." is never read as the
    answer to a question asked the other way round."""
    answer = f"*{escape(reply.text)}*"
    return f"_{escape(reply.asks)}_\n{answer}" if reply.asks else answer


def _option(number: int, reply: Clarify, option: Match) -> dict[str, Any]:
    """A "did you mean" option: the question the clause answers, with a button to choose it
    (a button's own label holds only 75 characters)."""
    return {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "verbatim": True,
            "text": f"{escape(option.clause.label)}\n_{escape(option.clause.section)}_",
        },
        "accessory": {
            "type": "button",
            "action_id": f"clarify_{number}",
            "text": {"type": "plain_text", "text": "This one"},
            "value": json.dumps({"org": reply.policy.org, "clause": option.clause.id}),
        },
    }


def blocks_for(
    reply: Reply, *, asked_id: str, public_url: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The reply as Block Kit, with the plain `text` Slack shows in notifications and reads
    to screen readers. `public_url`: where people reach the server, for the link to how other
    councils handle the answer's topic."""
    headline = _answer_text(reply) if isinstance(reply, Answer) else f"*{escape(reply.text)}*"
    blocks: list[dict[str, Any]] = [_section(headline)]
    text = reply.text
    actions: list[dict[str, Any]] = []
    if isinstance(reply, Answer):
        blocks += _quoted(reply.clause, reply) + _also(reply) + _compare(reply, public_url)
        text = _plain_text(reply)
    elif isinstance(reply, Clarify):
        blocks.extend(_option(number, reply, option) for number, option in enumerate(reply.options))
        text = reply.text + " " + "; ".join(o.clause.label for o in reply.options)
    if reply.route is not None:
        actions.append(
            {
                "type": "button",
                "action_id": "escalate",
                "text": {"type": "plain_text", "text": ROUTE_BUTTONS[reply.route]},
                "value": json.dumps({"org": reply.policy.org, "route": reply.route.value}),
            }
        )
    actions.extend(_feedback(asked_id))
    blocks.append({"type": "actions", "elements": actions})
    # Slack reads this text as mrkdwn too (notifications, screen readers): escaped like the rest.
    return escape(text), blocks
