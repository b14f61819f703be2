"""What the admin API and `policybot escalations` share: cases and their timelines as JSON, an
event in words, and the actions an administrator may take.

Both edges act as `admin:<name>`, which the core lets act on any case; the name is the one the
person typed, kept on every event so the audit trail says who did what.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.escalation import wording
from bot.escalation.cases import Cases
from bot.escalation.desks import route_name
from bot.escalation.model import (
    Action,
    ActionResult,
    Actor,
    AlertDelivery,
    Case,
    Event,
    Outcome,
    Status,
    unreached,
)
from bot.knowledge import INCIDENT_LABELS, Policy, Route
from bot.storage import Store, opaque_asker

MAX_NAME_CHARS = 100
MAX_NOTE_CHARS = 4000


class AdminAction(enum.StrEnum):
    """The subset of the core's actions an administrator takes from the page or the CLI."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    RESOLVE = "resolve"
    # Legal hold: never purged while held, whatever the retention (the reason is `text`).
    HOLD = "hold"
    RELEASE = "release"


class AdminActionError(ValueError):
    """An action that cannot be taken as asked; `field` names the part at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def admin_actor(by: str) -> Actor:
    """A person acting through the admin page or the CLI, by the name they give."""
    name = by.strip()
    if not name:
        raise AdminActionError("by", "say who is acting (your name)")
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise AdminActionError("by", f"a name of at most {MAX_NAME_CHARS} printable characters")
    if ":" in name:  # "slack:UHR1" would read in a thread as that Slack user (review L7)
        raise AdminActionError("by", "your name, without ':'")
    return Actor("admin", name)


async def act_as_admin(
    cases: Cases,
    reference: str,
    action: AdminAction,
    *,
    by: str | Actor,
    text: str = "",
    outcome: Outcome | None = None,
) -> ActionResult:
    """Take one action as `admin:<by>`, or as `by` itself for a signed-in person. A
    resolution with `text` records it as a note first, so the timeline reads "why" before
    "resolved". Raises `AdminActionError` and the core's `UnknownCaseError`."""
    actor = by if isinstance(by, Actor) else admin_actor(by)
    note = text.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise AdminActionError("text", f"at most {MAX_NOTE_CHARS} characters")
    if action is AdminAction.NOTE and not note:
        raise AdminActionError("text", "write the note")
    if action is AdminAction.RESOLVE and outcome is None:
        choices = ", ".join(each.value for each in Outcome)
        raise AdminActionError("outcome", f"choose an outcome: {choices}")
    if action in (AdminAction.HOLD, AdminAction.RELEASE):
        return await cases.set_legal_hold(
            reference, held=action is AdminAction.HOLD, actor=actor, reason=note
        )
    if action is AdminAction.RESOLVE and note:
        current = await cases.get(reference)
        if current.status is not Status.RESOLVED:
            await cases.act(reference, Action.NOTE, actor=actor, text=note, member=True)
    # Only administrators get here (the admin API's guard, the CLI): they may act on any case.
    return await cases.act(
        reference,
        Action(action.value),
        actor=actor,
        member=True,
        text=note,
        outcome=outcome if action is AdminAction.RESOLVE else None,
    )


def case_json(case: Case, policy: Policy, alerts: Sequence[AlertDelivery] = ()) -> dict[str, Any]:
    """A case with its facts, as the admin page and `--json` show it, and how its `alerts` are
    doing (`not_yet_delivered`: the teams whose channel has not taken it yet). Holds personal
    data: for administrators only."""
    report = case.report
    return {
        "reference": case.reference,
        "org": case.org,
        "council": policy.council,
        "kind": case.kind.value,
        "kind_label": case.kind.label,
        "routes": [route.value for route in case.routes],
        "route_names": [route_name(route) for route in case.routes],
        "clause": case.clause,
        "status": case.status.value,
        "assigned_to": case.assigned_to.shown if case.assigned_to else None,
        "outcome": case.outcome.value if case.outcome else None,
        "outcome_label": case.outcome.label if case.outcome else None,
        "created_at": case.created_at.isoformat(),
        "acknowledged_at": case.acknowledged_at.isoformat() if case.acknowledged_at else None,
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "legal_hold": case.legal_hold,
        "report": {
            "what": report.what,
            "where": report.where,
            "when": report.when,
            "involved": report.involved,
            "evidence": list(report.evidence),
            "manager_involved": report.manager_involved,
            "reporter": report.reporter.model_dump(),
        },
        "alerts": [
            {
                "route": alert.route.value if alert.route else None,
                "platform": alert.platform,
                "address": alert.address,
                "state": alert.state.value,
                "attempts": alert.attempts,
                "error": alert.error,
            }
            for alert in alerts
        ],
        "not_yet_delivered": [route_name(route) for route in unreached(alerts)],
    }


def event_json(event: Event, case: Case) -> dict[str, Any]:
    # A web reporter's id is a random token, and a chat one a platform id: neither means
    # anything to the reader, who wants to know it was the reporter.
    by = "the reporter" if event.actor == case.reporter.actor else event.actor.shown
    return {
        "kind": event.kind,
        "actor": str(event.actor),
        "by": by,
        "at": event.at.isoformat(),
        "detail": dict(event.detail),
        "text": wording.timeline_line(event.kind, event.detail),
    }


def choices_json() -> dict[str, list[dict[str, str]]]:
    """The labels the forms offer, from the core's own vocabulary."""
    return {
        "kinds": [{"value": kind.value, "label": label} for kind, label in INCIDENT_LABELS.items()],
        "outcomes": [{"value": outcome.value, "label": outcome.label} for outcome in Outcome],
        "statuses": [
            {"value": status.value, "label": status.value.capitalize()} for status in Status
        ],
        "routes": [
            {"value": route.value, "label": route_name(route).capitalize()} for route in Route
        ],
    }


async def person_export(
    cases: Cases,
    store: Store,
    policies: Mapping[str, Policy],
    person: Actor,
    *,
    name: str | None,
    salt: str,
) -> dict[str, Any]:
    """Everything held about one person, as JSON for a subject access request: the cases they
    reported, whole; what they did on other cases; and the questions stored under their
    opaque id, with the redacted text of those the bot did not answer or they marked not
    helpful."""
    found = await cases.involving(person, name=name)
    # Questions are stored under the platform's own id for the asker, hashed.
    asker = person.id if person.platform in ("slack", "teams", "web") else str(person)
    questions = await store.asked_by(opaque_asker(asker, salt=salt))
    return {
        "person": str(person),
        "name": name,
        "exported_at": cases.clock().isoformat(),
        "reported_cases": [
            {
                "case": case_json(record.case, policies[record.case.org]),
                "timeline": [event_json(event, record.case) for event in record.events],
            }
            for record in found.reported
        ],
        # Other people's reports hold other people's data: only this person's own part.
        "actions_on_other_cases": [
            {
                "reference": record.case.reference,
                "council": policies[record.case.org].council,
                "events": [event_json(event, record.case) for event in record.events],
            }
            for record in found.acted_on
        ],
        # The references kept to message them (their name and ids, as the platform gave them).
        "chats": [
            json.loads(kept)
            for platform, address in dict.fromkeys(
                (record.case.reporter.platform, record.case.reporter.address)
                for record in found.reported
                if record.case.reporter.address
            )
            if address
            and (kept := await store.conversation(platform=platform, conversation_id=address))
        ],
        "questions": [
            {
                "org": question.org,
                "answer_kind": question.kind,
                "clause": question.clause,
                "score": round(question.score, 3),
                "channel": question.channel,
                "at": question.at.isoformat(),
                "helpful": question.helpful,
                "text": question.text,
            }
            for question in questions
        ],
        "not_held": "The text of answered questions is never stored; the text of questions "
        "not answered or marked not helpful is kept with personal details removed, for the "
        "council's retention period. Askers are stored under an opaque id, which is how these "
        "were found.",
    }
