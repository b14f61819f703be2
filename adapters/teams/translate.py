"""Teams activities to the core's `Question`, and the core's `Reply` to an Adaptive Card.

Every botbuilder import stays in `adapters/teams/`, behind these two translators, so that the
end-of-life SDK can be swapped for the Microsoft 365 Agents SDK without touching `bot/`.
Cards are built as data (schema 1.5). Text that came from a person or from a policy goes into
`TextRun`s, which Teams never reads as markdown: no link, mention or formatting can be formed.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.assistant import Answer, Clarify, Question, Reply
from bot.comparison import comparison_path
from bot.knowledge import Clause, Route
from bot.matcher import Match

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ROUTE_ACTIONS = {Route.HR: "Talk to HR", Route.COMMS: "Report an incident"}


def question_from_activity(activity: Activity, *, org: str) -> Question | None:
    """The question in a message: any message in personal chat; in a channel or group chat
    only one that mentions the bot, with the mention removed. None when there is none."""
    if activity.type != ActivityTypes.message or activity.value:
        return None  # card submissions and other activities are not questions
    scope = (
        activity.conversation.conversation_type if activity.conversation else None
    ) or "personal"
    text = activity.text or ""
    if scope != "personal":
        recipient = activity.recipient.id if activity.recipient else None
        mentioned = any(
            entity.type == "mention"
            and (entity.additional_properties or {}).get("mentioned", {}).get("id") == recipient
            for entity in activity.entities or []
        )
        if not mentioned:
            return None
        text = TurnContext.remove_recipient_mention(activity) or ""
    text = " ".join(text.split())
    asker = (
        activity.from_property.aad_object_id or activity.from_property.id
        if activity.from_property
        else ""
    )
    if not text or not asker:
        return None
    return Question(
        org=org,
        text=text,
        asker=str(asker),
        where=str(activity.conversation.id if activity.conversation else ""),
    )


def tenant_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data or {}
    tenant = channel_data.get("tenant", {}) if isinstance(channel_data, dict) else {}
    return tenant.get("id") or (activity.conversation.tenant_id if activity.conversation else None)


def plain_text(text: str, **style: Any) -> dict[str, Any]:
    """Text shown exactly as given: a TextRun is never parsed as markdown."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def execute_action(title: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": data}


def adaptive_card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An Adaptive Card (schema 1.5: `Action.Execute`, input labels) around `body`."""
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "actions": actions or [],
    }


def _option(reply: Clarify, option: Match) -> dict[str, Any]:
    """A "did you mean" option: the question the clause answers, its section, and a button."""
    return {
        "type": "Container",
        "separator": True,
        "items": [
            plain_text(option.clause.label),
            plain_text(option.clause.section, isSubtle=True, size="Small"),
            {
                "type": "ActionSet",
                "actions": [
                    execute_action(
                        "This one", "clarify", {"org": reply.policy.org, "clause": option.clause.id}
                    )
                ],
            },
        ],
    }


def quoted(quote: str, section: str, council: str, title: str) -> list[dict[str, Any]]:
    """A clause's words as the policy has them, then where they stand in it: on answers and on
    escalation alerts alike."""
    return [
        {"type": "Container", "style": "emphasis", "items": [plain_text(quote, italic=True)]},
        plain_text(f"{section} · {council}, {title}", isSubtle=True, size="Small"),
    ]


def _quoted(clause: Clause, reply: Reply) -> list[dict[str, Any]]:
    return quoted(clause.quote, clause.section, reply.policy.council, reply.policy.title)


def _also(reply: Answer) -> list[dict[str, Any]]:
    """The other clauses that apply, each under the question it answers."""
    if not reply.also:
        return []
    body = [{**plain_text("Also relevant:", weight="Bolder"), "separator": True}]
    for match in reply.also:
        if match.clause.asks:
            body.append(plain_text(match.clause.asks, italic=True))
        body.extend(_quoted(match.clause, reply))
    return body


def card_for(reply: Reply, *, asked_id: str, public_url: str | None = None) -> dict[str, Any]:
    """The reply as an Adaptive Card (schema 1.5), built as data. `public_url`: where people
    reach the server, for the link to how other councils handle the answer's topic."""
    body: list[dict[str, Any]] = []
    if isinstance(reply, Answer) and reply.asks:
        # The question the verdict answers, right above it: "No." is only ever read as the
        # answer to this question, never to one asked the other way round.
        body.append(plain_text(reply.asks, italic=True))
    body.append(plain_text(reply.text, weight="Bolder"))
    actions: list[dict[str, Any]] = []
    if isinstance(reply, Answer):
        body += _quoted(reply.clause, reply) + _also(reply)
    elif isinstance(reply, Clarify):
        body.extend(_option(reply, option) for option in reply.options)
    if reply.route is not None:
        actions.append(
            execute_action(
                ROUTE_ACTIONS[reply.route],
                "escalate",
                {"org": reply.policy.org, "route": reply.route.value},
            )
        )
    if isinstance(reply, Answer) and reply.compare is not None and public_url is not None:
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": "How other councils handle this",
                "url": public_url.rstrip("/") + comparison_path(reply.compare),
            }
        )
    actions.append(execute_action("👍", "feedback", {"id": asked_id, "helpful": True}))
    actions.append(execute_action("👎", "feedback", {"id": asked_id, "helpful": False}))
    return adaptive_card(body, actions)


def summary_of(reply: Reply) -> str:
    """The plain-text summary sent with every card, for notifications and screen readers."""
    if isinstance(reply, Answer):
        asked = f"{reply.asks} " if reply.asks else ""
        also = "; ".join(f"{m.clause.label} ({m.clause.section})" for m in reply.also)
        return f"{asked}{reply.text} ({reply.clause.section})" + (
            f" Also relevant: {also}" if also else ""
        )
    if isinstance(reply, Clarify):
        return reply.text + " " + "; ".join(o.clause.label for o in reply.options)
    return reply.text


def activity_for(reply: Reply, *, asked_id: str, public_url: str | None = None) -> Activity:
    card = card_for(reply, asked_id=asked_id, public_url=public_url)
    return Activity(
        type=ActivityTypes.message,
        text=summary_of(reply),
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )
