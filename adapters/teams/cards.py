"""Adaptive Cards for escalations on Teams: the report card, the alert card with the team's
buttons, the reporter's cards, and what a clicked card holds.

Cards are built as data (schema 1.5). Everything a person wrote, and the policy's own words, goes
into `TextRun`s (never markdown, see translate.py), so a report cannot form a link or a mention in
the team's channel; the plain-text `text` beside each card is sent with textFormat "plain".
Inputs sit on the cards themselves: Teams sends every input's value with an `Action.Execute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment

from adapters.teams.translate import (
    CARD_CONTENT_TYPE,
    adaptive_card,
    execute_action,
    plain_text,
    quoted,
)
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
from bot.escalation.report import ReportError
from bot.knowledge import IncidentKind, Policy, Route

REPORT_VERB = "case_report"
ANSWER_VERB = "case_answer"
# The team's buttons on an alert, in the order shown.
TEAM_VERBS: Mapping[str, tuple[str, Action]] = {
    "case_ack": ("Acknowledge", Action.ACKNOWLEDGE),
    "case_assign": ("Assign to me", Action.ASSIGN),
    "case_ask": ("Ask the reporter", Action.ASK_REPORTER),
    "case_note": ("Add note", Action.NOTE),
    "case_resolve": ("Resolve", Action.RESOLVE),
}
CASE_VERBS: Mapping[str, Action] = {
    **{verb: action for verb, (_, action) in TEAM_VERBS.items()},
    ANSWER_VERB: Action.REPORTER_ANSWER,
}
# The input each action takes its words from; every input of a card arrives with every click,
# so each has its own id.
TEXT_INPUTS: Mapping[Action, str] = {
    Action.ASK_REPORTER: "question",
    Action.NOTE: "note",
    Action.REPORTER_ANSWER: "answer",
}
OUTCOME_INPUT = "outcome"
MISSING_INPUT: Mapping[Action, str] = {
    Action.ASK_REPORTER: "Write the question for the reporter in the box first.",
    Action.NOTE: "Write the note in the box first.",
    Action.REPORTER_ANSWER: "Write your answer in the box first.",
    Action.RESOLVE: "Choose an outcome first.",
}


# --- the report card ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportInput:
    """One text input of the report card; `field` is where a `ReportError` names it."""

    id: str
    label: str
    field: str
    multiline: bool = False
    required: bool = False


REPORT_INPUTS = (
    ReportInput("what", "What happened?", "what", multiline=True, required=True),
    ReportInput("where", "Where: a link, or the site or page", "where"),
    ReportInput("when", "When", "when"),
    ReportInput("involved", "Who is involved", "involved"),
    ReportInput(
        "evidence",
        "Evidence: links to posts or screenshots, one per line",
        "evidence",
        multiline=True,
    ),
    ReportInput("name", "Your name", "reporter.name", required=True),
    ReportInput("job_title", "Your job title", "reporter.job_title"),
    ReportInput("area", "Your service area", "reporter.area"),
    ReportInput("phone", "Your phone number", "reporter.phone"),
)
KIND_INPUT = "kind"
MANAGER_INPUT = "manager_involved"
# pydantic's wording, as a person filling in a form would rather read it.
FRIENDLIER = {"String should have at least 1 character": "Please fill this in."}


def _value(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    return value if isinstance(value, str) else ""


def report_data(org: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the report card sent, in the shape `parse_report` reads."""
    text = {each.id: _value(values, each.id) for each in REPORT_INPUTS}
    return {
        "org": org,
        "kind": _value(values, KIND_INPUT) or None,
        "what": text["what"],
        "where": text["where"],
        "when": text["when"],
        "involved": text["involved"],
        # Links hold no spaces: split on any whitespace, for those who paste them on one line.
        "evidence": text["evidence"].split(),
        "reporter": {
            "name": text["name"],
            "job_title": text["job_title"],
            "area": text["area"],
            "phone": text["phone"],
        },
        "manager_involved": _value(values, MANAGER_INPUT) == "true",
    }


def _problem(text: str) -> dict[str, Any]:
    return plain_text(text, color="Attention", weight="Bolder")


def report_card(
    policy: Policy,
    *,
    values: Mapping[str, Any] | None = None,
    error: ReportError | None = None,
    contact: str | None = None,
) -> dict[str, Any]:
    """The form, empty or with what was typed and the problem shown under the field at fault."""
    values = values or {}
    body: list[dict[str, Any]] = [
        plain_text("Report an incident", weight="Bolder", size="Medium"),
        plain_text(
            f"It goes to the right team under {policy.council}'s social media policy, and you "
            "will hear in this chat when anything changes."
        ),
    ]
    if contact:
        body.append(plain_text(f"You can also contact {contact}.", isSubtle=True))
    fields = {each.field for each in REPORT_INPUTS} | {KIND_INPUT, MANAGER_INPUT}
    if error is not None and error.field not in fields:
        body.append(_problem(_friendlier(error.message)))
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": KIND_INPUT,
            "label": "What is it about?",
            "style": "compact",
            "placeholder": "Choose one",
            "value": _value(values, KIND_INPUT),
            "choices": [{"title": kind.label, "value": kind.value} for kind in IncidentKind],
        }
    )
    if error is not None and error.field == KIND_INPUT:
        body.append(_problem(_friendlier(error.message)))
    for each in REPORT_INPUTS:
        text_input = {
            "type": "Input.Text",
            "id": each.id,
            "label": each.label,
            "isMultiline": each.multiline,
            "value": _value(values, each.id),
        }
        if each.required:  # checked by Teams before it sends, and again by the core
            text_input |= {"isRequired": True, "errorMessage": "Please fill this in."}
        body.append(text_input)
        if error is not None and error.field == each.field:
            body.append(_problem(_friendlier(error.message)))
    body.append(
        {
            "type": "Input.Toggle",
            "id": MANAGER_INPUT,
            "title": "My line manager is involved",
            "valueOn": "true",
            "valueOff": "false",
            "value": "true" if _value(values, MANAGER_INPUT) == "true" else "false",
        }
    )
    submit = execute_action("Submit", REPORT_VERB, {"org": policy.org})
    return adaptive_card(body, [submit])


def _friendlier(message: str) -> str:
    message = message.removeprefix("Value error, ")
    return FRIENDLIER.get(message, message)


def reported_card(case: Case) -> dict[str, Any]:
    """What the report card turns into once the case is open."""
    routes = " and ".join(route_name(route) for route in case.routes)
    return adaptive_card(
        [
            plain_text(f"Thank you, your reference is {case.reference}.", weight="Bolder"),
            plain_text(
                f"It has gone to {routes}. You will hear in this chat when anything changes."
            ),
        ]
    )


# --- clicks on a case ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseClick:
    """A click on an alert or a reporter's card, with what its inputs held."""

    reference: str
    action: Action
    text: str = ""
    outcome: Outcome | None = None

    @property
    def missing(self) -> str | None:
        """What to ask for when the click needs an input that was left empty."""
        if self.action is Action.RESOLVE and self.outcome is None:
            return MISSING_INPUT[self.action]
        if self.action in TEXT_INPUTS and not self.text.strip():
            return MISSING_INPUT[self.action]
        return None


def case_click(verb: str, data: Mapping[str, Any]) -> CaseClick | None:
    """The click behind a case verb, or None for a verb that is not about a case."""
    action = CASE_VERBS.get(verb)
    reference = _value(data, "reference")
    if action is None or not reference:
        return None
    outcome = None
    if action is Action.RESOLVE:
        try:
            outcome = Outcome(_value(data, OUTCOME_INPUT))
        except ValueError:
            outcome = None
    text_input = TEXT_INPUTS.get(action)
    return CaseClick(
        reference=reference,
        action=action,
        text=_value(data, text_input) if text_input else "",
        outcome=outcome,
    )


# --- notices as cards ---------------------------------------------------------------------------


def _fact(label: str, value: str) -> dict[str, Any]:
    """A label and a value in one block; a FactSet would read the value as markdown."""
    return {
        "type": "RichTextBlock",
        "inlines": [
            {"type": "TextRun", "text": f"{label}: ", "weight": "Bolder"},
            {"type": "TextRun", "text": value},
        ],
    }


def _facts(facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for key, label in (
        ("what", "What happened"),
        ("where", "Where"),
        ("when", "When"),
        ("involved", "Who is involved"),
    ):
        if facts.get(key):
            shown.append(_fact(label, str(facts[key])))
    shown.extend(_fact("Evidence", str(link)) for link in facts.get("evidence") or ())
    reporter = facts.get("reporter") or {}
    who = ", ".join(
        str(reporter[key]) for key in ("name", "job_title", "area", "phone") if reporter.get(key)
    )
    if who:
        shown.append(_fact("Reported by", who))
    shown.append(_fact("Line manager involved", "Yes" if facts.get("manager_involved") else "No"))
    return shown


def alert_card(notice: Notice) -> dict[str, Any]:
    """An alert or reminder in the team's channel: the facts, the clause that routed it, and the
    team's buttons. A resolved case only takes notes."""
    routes = " and ".join(route_name(Route(route)) for route in notice.routes)
    body: list[dict[str, Any]] = [
        plain_text(f"{notice.reference}: {notice.kind_label}", weight="Bolder", size="Medium"),
        plain_text(notice.summary, color="Accent"),
        plain_text(
            f"{notice.council} · {notice.status.capitalize()} · for {routes}",
            isSubtle=True,
            size="Small",
        ),
        *_facts(notice.facts),
    ]
    if notice.clause:
        clause = notice.clause
        body.extend(quoted(clause.quote, clause.section, notice.council, clause.title))
    if notice.advice:
        body.append(_fact("The policy's advice to the reporter", notice.advice))
    resolved = notice.status == Status.RESOLVED.value
    if not resolved:
        body.append(_text_input(TEXT_INPUTS[Action.ASK_REPORTER], "A question for the reporter"))
    body.append(_text_input(TEXT_INPUTS[Action.NOTE], "A note for the team"))
    if not resolved:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": OUTCOME_INPUT,
                "style": "compact",
                "placeholder": "The outcome, to resolve",
                "choices": [
                    {"title": outcome.label, "value": outcome.value} for outcome in Outcome
                ],
            }
        )
    data = {"reference": notice.reference}
    actions = [
        execute_action(title, verb, data)
        for verb, (title, action) in TEAM_VERBS.items()
        if not resolved or action is Action.NOTE
    ]
    return adaptive_card(body, actions)


def _text_input(input_id: str, placeholder: str) -> dict[str, Any]:
    return {"type": "Input.Text", "id": input_id, "placeholder": placeholder, "isMultiline": True}


def reporter_card(notice: Notice) -> dict[str, Any]:
    """What the reporter is told; a question from the team comes with a box to answer it."""
    event = notice.event or {}
    return reporter_message_card(
        notice.reference,
        notice.summary,
        # The receipt (no event yet) carries what the policy asks of the reporter.
        advice=notice.advice if notice.event is None else None,
        answerable=event.get("kind") == EventKind.ASKED_REPORTER,
    )


def reporter_message_card(
    reference: str, message: str, *, advice: str | None = None, answerable: bool = False
) -> dict[str, Any]:
    body = [plain_text(message, weight="Bolder")]
    actions: list[dict[str, Any]] = []
    if advice:
        body.append(_fact("What the policy asks of you", advice))
    if answerable:
        body.append(_text_input(TEXT_INPUTS[Action.REPORTER_ANSWER], "Your answer"))
        actions.append(execute_action("Answer", ANSWER_VERB, {"reference": reference}))
    return adaptive_card(body, actions)


def notice_card(notice: Notice) -> dict[str, Any]:
    if notice.purpose in (Purpose.ALERT, Purpose.REMINDER, Purpose.REFRESH):
        return alert_card(notice)
    if notice.purpose is Purpose.REPORTER:
        return reporter_card(notice)
    return adaptive_card([plain_text(notice.summary)])


def notice_activity(notice: Notice) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        # The summary can hold what someone typed (a note, a question): never markdown.
        text=notice.summary,
        text_format="plain",
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=notice_card(notice))],
    )
