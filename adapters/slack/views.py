"""Block Kit for escalations: the core's `Notice` as a message (alerts with the team's buttons,
reminders, thread updates, the reporter's notices), the report modal and the case forms, and
what a submitted modal holds. Answers to questions are drawn by `translate.py`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.translate import MAX_SECTION_CHARS, blockquote, escape
from bot.escalation.desks import route_name
from bot.escalation.model import (
    Action,
    Case,
    EventKind,
    Notice,
    Outcome,
    Purpose,
    Status,
)
from bot.knowledge import IncidentKind, Route

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


def clip(escaped: str, limit: int) -> str:
    """Escaped text cut to Block Kit's limit, never in the middle of an `&amp;` entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity = cut.rfind("&")
    if entity > len(cut) - len("&amp;") and ";" not in cut[entity:]:
        cut = cut[:entity]
    return cut + "\u2026"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _labelled(label: str, value: str, limit: int = MAX_SECTION_CHARS) -> str:
    return clip(f"*{label}*\n{escape(value)}", limit)


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any] | None:
    """A section of labelled fields, leaving out the empty ones; None when all are."""
    shown = [
        {"type": "mrkdwn", "text": _labelled(label, value, MAX_FIELD_CHARS), "verbatim": True}
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
                    "verbatim": True,
                    "text": escape(f"{notice.council} \u00b7 sent to {sent_to}")
                    + f" \u00b7 status: *{escape(notice.status)}*",
                }
            ],
        },
    ]
    if notice.purpose is Purpose.REMINDER:
        blocks.append(section(clip(f":alarm_clock: {escape(notice.summary)}", MAX_SECTION_CHARS)))
    if notice.purpose is Purpose.REFRESH:  # the latest change, where the team looks first
        blocks.append(section(clip(f":pushpin: {escape(notice.summary)}", MAX_SECTION_CHARS)))
    blocks.append(section(_labelled("What happened", str(facts.get("what") or ""))))
    optional = [
        _fields(
            [
                ("Where", str(facts.get("where") or "")),
                ("When", str(facts.get("when") or "")),
                ("Who is involved", str(facts.get("involved") or "")),
                ("Line manager involved", "Yes" if facts.get("manager_involved") else ""),
            ]
        ),
        section(_labelled("Evidence", "\n".join(facts["evidence"])))
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
        blocks.append(section(clip(f"*Why it came to you*\n{quote}", MAX_SECTION_CHARS)))
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "verbatim": True,
                        "text": escape(f"{notice.clause.section} \u00b7 {notice.clause.title}"),
                    }
                ],
            }
        )
    if notice.advice:
        blocks.append(section(_labelled("What the policy asks", notice.advice)))
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
    blocks = [section(text)]
    asked = notice.event is not None and notice.event.get("kind") == EventKind.ASKED_REPORTER
    if notice.purpose is Purpose.REPORTER and asked:
        blocks.append(
            {"type": "actions", "elements": [_button(ANSWER_BUTTON, "Answer", notice.reference)]}
        )
    return text, blocks


VALUE = "value"  # the action id of every input in these modals: the block id says which


# The report modal's input blocks, named after the report field each one fills: a
# `ReportError`'s field leads straight to the block to mark.
REPORT_BLOCKS = (
    "kind",
    "what",
    "where",
    "when",
    "involved",
    "evidence",
    "reporter_name",
    "reporter_job_title",
    "reporter_area",
    "reporter_phone",
    "manager_involved",
)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = True,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text(max_length: int, *, multiline: bool = False) -> dict[str, Any]:
    return {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}


def report_view(org: str) -> dict[str, Any]:
    """The report form, after West Dunbartonshire's record of concern; the council rides in
    `private_metadata` so that the submission is routed by the workspace's own policy."""
    return {
        "type": "modal",
        "callback_id": REPORT_CALLBACK,
        "private_metadata": json.dumps({"org": org}),
        "title": _plain("Report an incident"),
        "submit": _plain("Send report"),
        "close": _plain("Cancel"),
        "blocks": [
            _input(
                "kind",
                "What is it about?",
                {
                    "type": "static_select",
                    "options": [_option(kind.value, kind.label) for kind in IncidentKind],
                },
                hint="Leave it empty if you are not sure: it is worked out from what you write.",
            ),
            _input("what", "What happened", _text(4000, multiline=True), optional=False),
            _input("where", "Where (a link, or where you saw it)", _text(1000)),
            _input("when", "When", _text(200)),
            _input("involved", "Who is involved", _text(1000, multiline=True)),
            _input(
                "evidence",
                "Evidence links",
                _text(4000, multiline=True),
                hint="One link per line: screenshots saved to a shared drive, or the posts.",
            ),
            _input("reporter_name", "Your name", _text(200), optional=False),
            _input("reporter_job_title", "Your job title", _text(200)),
            _input("reporter_area", "Your service area", _text(200)),
            _input("reporter_phone", "Your phone number", _text(50)),
            _input(
                "manager_involved",
                "Line manager",
                {
                    "type": "checkboxes",
                    "options": [_option("yes", "My line manager is involved")],
                },
                hint="The report then goes past your line manager, as the policy asks.",
            ),
        ],
    }


def _typed(values: Mapping[str, Any], block_id: str) -> str:
    entered = values.get(block_id, {}).get(VALUE, {})
    return str(entered.get("value") or "")


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    option = values.get(block_id, {}).get(VALUE, {}).get("selected_option")
    return str(option["value"]) if option else None


def report_data(values: Mapping[str, Any], *, org: str) -> dict[str, Any]:
    """The submitted form (`view.state.values`) as the data `parse_report` validates."""
    checked = values.get("manager_involved", {}).get(VALUE, {}).get("selected_options") or []
    return {
        "org": org,
        "kind": _selected(values, "kind"),
        "what": _typed(values, "what"),
        "where": _typed(values, "where"),
        "when": _typed(values, "when"),
        "involved": _typed(values, "involved"),
        "evidence": _typed(values, "evidence").splitlines(),
        "reporter": {
            "name": _typed(values, "reporter_name"),
            "job_title": _typed(values, "reporter_job_title"),
            "area": _typed(values, "reporter_area"),
            "phone": _typed(values, "reporter_phone"),
        },
        "manager_involved": bool(checked),
    }


def block_for_field(field: str) -> str:
    """The form block to mark for a `ReportError` field ("what", "evidence.2",
    "reporter.name"); errors about the report as a whole go on its first required block."""
    parts = field.split(".")
    block = "_".join(parts[:2]) if parts[0] == "reporter" else parts[0]
    if block == "reporter":  # the whole reporter missing: the name is what is required
        block = "reporter_name"
    return block if block in REPORT_BLOCKS else "what"


def sending_view() -> dict[str, Any]:
    """The report form's place while its case is opened: Slack wants an answer in 3 seconds."""
    return _message_view("Sending report", "Sending your report to the team…")


def refused_view(message: str) -> dict[str, Any]:
    """A checked report that could not be taken (too many at once, no desk): why, and who to
    contact instead, in the message."""
    return _message_view("Report not sent", message)


def _message_view(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": _plain(text)}],
    }


def receipt_view(case: Case) -> dict[str, Any]:
    sent_to = " and ".join(route_name(route) for route in case.routes)
    return _message_view(
        "Report sent",
        f"Your report is {case.reference}; it has gone to {sent_to}. "
        "I will message you here whenever anything changes.",
    )


def case_form_view(form_id: str, reference: str) -> dict[str, Any]:
    form = CASE_FORMS[form_id]
    if form.action is Action.RESOLVE:
        element: dict[str, Any] = {
            "type": "static_select",
            "options": [_option(outcome.value, outcome.label) for outcome in Outcome],
        }
    else:
        element = _text(3000, multiline=True)
    return {
        "type": "modal",
        "callback_id": form_id,
        "private_metadata": json.dumps({"reference": reference}),
        "title": _plain(form.title),
        "submit": _plain(form.submit),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "context", "elements": [_plain(f"Case {reference}")]},
            _input(form_id, form.label, element, optional=False),
        ],
    }


REPORT_CALLBACK = "case_report"


@dataclass(frozen=True, slots=True)
class CaseForm:
    """A case action that needs words or an outcome: its modal, and what its submission does."""

    action: Action
    title: str  # at most 24 characters: Slack's limit for a modal title
    label: str
    submit: str


CASE_FORMS = {
    "case_ask": CaseForm(Action.ASK_REPORTER, "Ask the reporter", "Your question", "Send"),
    "case_note": CaseForm(Action.NOTE, "Add a note", "Note for the case", "Add note"),
    "case_resolve": CaseForm(Action.RESOLVE, "Resolve the case", "Outcome", "Resolve"),
    ANSWER_BUTTON: CaseForm(Action.REPORTER_ANSWER, "Answer the team", "Your answer", "Send"),
}
