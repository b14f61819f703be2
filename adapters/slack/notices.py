"""Case notices on Slack: the core's `Notice` as Block Kit, and `SlackChannel`, through which
the outbox worker posts alerts, reminders, thread updates and the reporter's direct messages.

Every message carries its outbox id as message metadata, so that after a crash the worker can
ask Slack whether a delivery already went out instead of posting it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import MAX_SECTION_CHARS, blockquote, escape
from bot.escalation.desks import route_name
from bot.escalation.model import Delivery, EventKind, Notice, Purpose, Removal, Status
from bot.knowledge import Route

OUTBOX_EVENT_TYPE = "policybot_outbox"
# The crash case is a message posted moments before: it is among the newest, so one page of
# history is enough, and looking further back would only slow every retry down.
HISTORY_PAGE = 200
MAX_FIELD_CHARS = 2000  # Block Kit's limit for a section field
MAX_HEADER_CHARS = 150

# The buttons on an alert, by action id; each button's value is the case reference.
CASE_BUTTONS = {
    "case_ack": "Acknowledge",
    "case_assign": "Assign to me",
    "case_ask": "Ask the reporter",
    "case_note": "Add note",
    "case_resolve": "Resolve",
}
ANSWER_BUTTON = "case_answer"
# What chat.delete answers where the message may not be deleted, so is blanked instead.
UNDELETABLE = ("cant_delete_message", "compliance_exports_prevent_deletion")


def clip(escaped: str, limit: int) -> str:
    """Escaped text cut to Block Kit's limit, never in the middle of an `&amp;` entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity = cut.rfind("&")
    if entity > len(cut) - len("&amp;") and ";" not in cut[entity:]:
        cut = cut[:entity]
    return cut + "\u2026"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _labelled(label: str, value: str, limit: int = MAX_SECTION_CHARS) -> str:
    return clip(f"*{label}*\n{escape(value)}", limit)


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any] | None:
    """A section of labelled fields, leaving out the empty ones; None when all are."""
    shown = [
        {"type": "mrkdwn", "text": _labelled(label, value, MAX_FIELD_CHARS)}
        for label, value in pairs
        if value
    ]
    return {"type": "section", "fields": shown} if shown else None


def _button(action_id: str, label: str, reference: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": reference,
    }


def _alert_blocks(notice: Notice) -> list[dict[str, Any]]:
    facts = notice.facts
    reporter: Mapping[str, Any] = facts.get("reporter") or {}
    sent_to = " and ".join(route_name(Route(route)) for route in notice.routes)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": f"{notice.reference} \u00b7 {notice.kind_label}"[:MAX_HEADER_CHARS],
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(f"{notice.council} \u00b7 sent to {sent_to}")
                    + f" \u00b7 status: *{escape(notice.status)}*",
                }
            ],
        },
    ]
    if notice.purpose is Purpose.REMINDER:
        blocks.append(_section(clip(f":alarm_clock: {escape(notice.summary)}", MAX_SECTION_CHARS)))
    if notice.purpose is Purpose.REFRESH:  # the latest change, where the team looks first
        blocks.append(_section(clip(f":pushpin: {escape(notice.summary)}", MAX_SECTION_CHARS)))
    blocks.append(_section(_labelled("What happened", str(facts.get("what") or ""))))
    optional = [
        _fields(
            [
                ("Where", str(facts.get("where") or "")),
                ("When", str(facts.get("when") or "")),
                ("Who is involved", str(facts.get("involved") or "")),
                ("Line manager involved", "Yes" if facts.get("manager_involved") else ""),
            ]
        ),
        _section(_labelled("Evidence", "\n".join(facts["evidence"])))
        if facts.get("evidence")
        else None,
        _fields(
            [
                ("Reported by", str(reporter.get("name") or "")),
                ("Job title", str(reporter.get("job_title") or "")),
                ("Area", str(reporter.get("area") or "")),
                ("Phone", str(reporter.get("phone") or "")),
            ]
        ),
    ]
    blocks.extend(block for block in optional if block is not None)
    if notice.clause:
        quote = blockquote(notice.clause.quote)
        blocks.append(_section(clip(f"*Why it came to you*\n{quote}", MAX_SECTION_CHARS)))
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": escape(f"{notice.clause.section} \u00b7 {notice.clause.title}"),
                    }
                ],
            }
        )
    if notice.advice:
        blocks.append(_section(_labelled("What the policy asks", notice.advice)))
    blocks.append(
        {
            "type": "actions",
            "block_id": "case_actions",
            "elements": [
                _button(action_id, label, notice.reference)
                for action_id, label in CASE_BUTTONS.items()
                if action_id in _buttons_for(notice.status)
            ],
        }
    )
    return blocks


def _buttons_for(status: str) -> set[str]:
    """The buttons that can still change something: a resolved case only takes notes."""
    if status == Status.RESOLVED.value:
        return {"case_note"}
    if status == Status.ACKNOWLEDGED.value:
        return set(CASE_BUTTONS) - {"case_ack"}
    return set(CASE_BUTTONS)


def notice_message(notice: Notice) -> tuple[str, list[dict[str, Any]]]:
    """The notice as Block Kit, with the plain `text` Slack shows in notifications and reads
    to screen readers. Everything a person typed is escaped."""
    text = clip(escape(notice.summary), MAX_SECTION_CHARS)
    if notice.purpose in (Purpose.ALERT, Purpose.REMINDER, Purpose.REFRESH):
        return text, _alert_blocks(notice)
    blocks = [_section(text)]
    asked = notice.event is not None and notice.event.get("kind") == EventKind.ASKED_REPORTER
    if notice.purpose is Purpose.REPORTER and asked:
        blocks.append(
            {"type": "actions", "elements": [_button(ANSWER_BUTTON, "Answer", notice.reference)]}
        )
    return text, blocks


class SlackChannel:
    """The outbox worker's way to Slack: channel alerts and thread updates post to the
    delivery's channel id, reporter notices to a direct message with the delivery's user id."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def send(self, delivery: Delivery) -> str:
        text, blocks = notice_message(delivery.notice)
        if delivery.notice.purpose is Purpose.REFRESH:
            assert delivery.thread is not None  # the outbox holds a refresh until its alert is out
            await self._client.chat_update(
                channel=delivery.address, ts=delivery.thread, text=text, blocks=blocks
            )
            return delivery.thread
        posted = await self._client.chat_postMessage(
            channel=await self._conversation(delivery),
            text=text,
            blocks=blocks,
            thread_ts=delivery.thread,
            metadata={"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"outbox_id": delivery.id}},
            # Evidence links are posts under investigation: not previewed in the team channel.
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(posted["ts"])

    async def already_sent(self, delivery: Delivery) -> str | None:
        channel = await self._conversation(delivery)
        if delivery.thread:
            found = await self._client.conversations_replies(
                channel=channel, ts=delivery.thread, include_all_metadata=True, limit=HISTORY_PAGE
            )
        else:
            found = await self._client.conversations_history(
                channel=channel, include_all_metadata=True, limit=HISTORY_PAGE
            )
        for message in found.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == OUTBOX_EVENT_TYPE
                and payload.get("outbox_id") == delivery.id
            ):
                return str(message["ts"])
        return None

    async def remove(self, delivery: Delivery) -> Removal:
        assert delivery.removes is not None
        channel = await self._conversation(delivery)
        try:
            await self._client.chat_delete(channel=channel, ts=delivery.removes)
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
            channel=channel, ts=delivery.removes, text=text, blocks=[_section(text)]
        )
        return Removal.TOMBSTONED

    async def _conversation(self, delivery: Delivery) -> str:
        if not delivery.direct:
            return delivery.address
        # A reporter is addressed by user id; conversations.open gives (or reopens) the DM.
        opened = await self._client.conversations_open(users=delivery.address)
        return str(opened["channel"]["id"])
