"""Every sentence the escalation flow says about a case, by who reads it.

An event is stored as its kind and detail, never as words; the words are made here, once per
audience:

- the team: an alert's title, and the lines its thread gets as the case moves on;
- the reporter: the notices they are sent in chat, and the updates the web page they follow
  their reports on lists;
- whoever reads the timeline: the admin page, `policybot escalations show`, a person's export.

Adapters render these as plain text (escaping it for their platform like everything else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.escalation.desks import route_name
from bot.escalation.model import Actor, EventKind, Outcome
from bot.knowledge import IncidentKind, Route

# What someone not on a case's team is told; an unknown reference gets the same words, so that
# clicking through references tells nobody which cases exist (security review L7).
NOT_YOUR_CASE = "Only the team this case was sent to can act on it."


def _routes(routes: Iterable[Route]) -> str:
    return " and ".join(route_name(route) for route in routes)


def _outcome(detail: Mapping[str, Any]) -> str:
    return Outcome(detail["outcome"]).label


# --- the team ----------------------------------------------------------------------------------


def new_report(reference: str, kind: IncidentKind) -> str:
    """The alert's title."""
    return f"New report {reference}: {kind.label}"


def reminder(reference: str, minutes: int) -> str:
    return f"Reminder: {reference} has not been acknowledged ({minutes} min)"


def team_line(kind: EventKind, detail: Mapping[str, Any], reference: str, actor: Actor) -> str:
    """What the alert's thread is told of a team action or the reporter's answer."""
    who = actor.shown
    if kind is EventKind.ACKNOWLEDGED:
        return f"{reference} acknowledged by {who}"
    if kind is EventKind.ASSIGNED:
        return f"{reference} assigned to {who}"
    if kind is EventKind.ASKED_REPORTER:
        return f"{who} asked the reporter: {detail['question']}"
    if kind is EventKind.REPORTER_ANSWERED:
        return f"The reporter answered: {detail['answer']}"
    if kind is EventKind.NOTE:
        return f"Note from {who}: {detail['note']}"
    if kind is EventKind.RESOLVED:
        return f"{reference} resolved by {who}: {_outcome(detail)}"
    return timeline_line(kind, detail)


# --- the reporter ------------------------------------------------------------------------------


def reporter_thanks(reference: str, routes: Iterable[Route]) -> str:
    """The reporter's receipt, sent as the case opens."""
    return (
        f"Thank you. Your report is {reference}; it has gone to {_routes(routes)}. "
        "You will hear here when anything changes."
    )


def reporter_notice(kind: EventKind, detail: Mapping[str, Any], reference: str) -> str | None:
    """What the reporter is sent in chat when the case moves on; None for the team's own
    business (notes, assignments, reminders)."""
    if kind is EventKind.ACKNOWLEDGED:
        return f"Your report {reference} has been picked up by the team."
    if kind is EventKind.ASKED_REPORTER:
        return f"The team handling {reference} asks: {detail['question']}"
    if kind is EventKind.RESOLVED:
        return f"Your report {reference} has been resolved: {_outcome(detail)}."
    return None


def reporter_update(
    kind: EventKind, detail: Mapping[str, Any], routes: Iterable[Route]
) -> str | None:
    """One line of the web page a reporter follows their report on; None for what they are
    not told."""
    if kind is EventKind.REPORTED:
        return f"Sent to {_routes(routes)}"
    if kind is EventKind.ACKNOWLEDGED:
        return "Picked up by the team"
    if kind is EventKind.ASKED_REPORTER:
        return f"The team asks: {detail.get('question', '')}"
    if kind is EventKind.RESOLVED:
        return f"Resolved: {_outcome(detail)}"
    return None


# --- the timeline ------------------------------------------------------------------------------


def timeline_line(kind: EventKind, detail: Mapping[str, Any]) -> str:
    """One line a person reads in a case's timeline."""
    if kind is EventKind.REPORTED:
        routes = [Route(route) for route in str(detail.get("routes", "")).split(",") if route]
        return f"Reported; sent to {_routes(routes)}"
    if kind is EventKind.ACKNOWLEDGED:
        return "Acknowledged"
    if kind is EventKind.ASSIGNED:
        return f"Assigned to {Actor.parse(str(detail.get('to', ''))).shown}"
    if kind is EventKind.NOTE:
        return f"Note: {detail.get('note', '')}"
    if kind is EventKind.ASKED_REPORTER:
        return f"Asked the reporter: {detail.get('question', '')}"
    if kind is EventKind.REPORTER_ANSWERED:
        return f"The reporter answered: {detail.get('answer', '')}"
    if kind is EventKind.RESOLVED:
        return f"Resolved: {_outcome(detail)}"
    if kind is EventKind.REMINDED:
        return f"Reminder {detail.get('step', '')} sent: not yet acknowledged"
    if kind is EventKind.LEGAL_HOLD:
        reason = detail.get("reason")
        return f"Put under legal hold: {reason}" if reason else "Put under legal hold"
    if kind is EventKind.HOLD_RELEASED:
        return "Released from legal hold"
    if kind is EventKind.REFUSED:
        return f"Refused to {detail.get('action', 'act')}: not on the case's team"
    return kind.replace("_", " ").capitalize()
