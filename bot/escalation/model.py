"""A case as read back: its status and outcome, its events, what is said about it (notices) and
each delivery of a notice claimed from the outbox."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.escalation.report import IncidentReport
from bot.knowledge import IncidentKind, Policy, Route

# A case's reference: up to three letters of its council, then six of REFERENCE_ALPHABET.
_REFERENCE = re.compile(r"[A-Z0-9]{1,3}-[A-HJ-NP-Z2-9]{6}")


def reference_of(text: str) -> str | None:
    """`text` as a case reference (trimmed, upper case), or None when it cannot be one: looked
    up as it is, a NUL byte would be a 500 from PostgreSQL (security review L1)."""
    reference = text.strip().upper()
    return reference if _REFERENCE.fullmatch(reference) else None


# The time now. The services that stamp or compare times take one (tests set it), and nothing
# in the escalation flow reads the system clock itself.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Status(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class EventKind(enum.StrEnum):
    """What happened to a case: each event on its timeline is one of these."""

    REPORTED = "reported"
    REFUSED = "refused"  # someone not on the team tried to act
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    ASKED_REPORTER = "asked_reporter"
    REPORTER_ANSWERED = "reporter_answered"
    NOTE = "note"
    RESOLVED = "resolved"
    LEGAL_HOLD = "legal_hold"
    HOLD_RELEASED = "hold_released"
    REMINDED = "reminded"


class OutboxState(enum.StrEnum):
    """Where an outbox row stands (bot/escalation/outbox.py)."""

    PENDING = "pending"  # to send, or being sent under a lease
    SENT = "sent"  # the platform has it; its message id is recorded
    DEAD = "dead"  # given up: a resolved case's, a day on, or its alert never went out
    SUPERSEDED = "superseded"  # a redraw that a later redraw of the same alert replaces


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """How a case's alert to one place is doing: what the admin page, `escalations show` and
    the reporter are told when a desk cannot be reached."""

    route: Route | None
    platform: str
    address: str
    state: OutboxState
    attempts: int
    error: str | None

    @property
    def failing(self) -> bool:
        """Tried, not delivered, and being tried again."""
        return self.state is OutboxState.PENDING and self.error is not None


def unreached(alerts: Sequence[AlertDelivery]) -> tuple[Route, ...]:
    """The routes none of whose alerts has been delivered while one keeps failing: the teams
    that have not heard of the case because their channel cannot be reached."""
    routes = dict.fromkeys(alert.route for alert in alerts if alert.route is not None)
    return tuple(
        route
        for route in routes
        if not any(a.route is route and a.state is OutboxState.SENT for a in alerts)
        and any(a.route is route and a.failing for a in alerts)
    )


@dataclass(frozen=True, slots=True)
class PipelineState:
    """The escalation pipeline at a glance, for metrics: outbox rows by state, how long the
    oldest undelivered one has waited, open cases nobody acknowledged within their desk's
    schedule (by council), and deliveries to desks that keep failing (by council and route)."""

    outbox: Mapping[OutboxState, int]
    oldest_undelivered: timedelta | None
    overdue: Mapping[str, int]
    failing: Mapping[tuple[str, Route | None], int]


class Outcome(enum.StrEnum):
    ADVICE_GIVEN = "advice_given"
    CONTENT_REMOVED = "content_removed"
    INVESTIGATION_OPENED = "investigation_opened"
    NO_FURTHER_ACTION = "no_further_action"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Purpose(enum.StrEnum):
    """Why an outbox row exists, which decides how the adapters render it."""

    ALERT = "alert"  # a new case, posted to the route's channel: the thread starts here
    REMINDER = "reminder"  # not yet acknowledged: posted again, on schedule
    THREAD = "thread"  # a change to the case, posted into the alert's thread
    REPORTER = "reporter"  # told to the person who reported it
    # The alert redrawn as the case now stands (its status, the buttons that still apply),
    # wherever the change was made: the message under `thread` is edited, nothing is posted.
    REFRESH = "refresh"
    REMOVAL = "removal"  # a message of a case past retention, to delete or tombstone


class Removal(enum.StrEnum):
    """What became of a message when its case was purged."""

    DELETED = "deleted"  # gone from the platform (or was already)
    TOMBSTONED = "tombstoned"  # the platform would not delete it: its text was replaced
    KEPT = "kept"  # out of our reach (an email in someone's mailbox)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who reports or acts on a case: a person by a platform's id for them ("slack", "teams",
    "web", or "admin" for the admin page), or policybot itself. The database and the desks'
    settings write it "slack:U123", the form `parse` reads and `str` gives."""

    platform: str  # "" for policybot
    id: str

    @classmethod
    def parse(cls, text: str) -> Actor:
        platform, colon, rest = text.partition(":")
        return cls(platform, rest) if colon and rest else cls("", text)

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}" if self.platform else self.id

    @property
    def shown(self) -> str:
        """How a thread names them: plain text (adapters escape it like the rest)."""
        return self.id


POLICYBOT = Actor("", "policybot")  # reminders are its doing


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who filed the report, and how to tell them what happens: `address` is where notices
    reach them on their platform (none for the web form)."""

    actor: Actor
    address: str | None = None

    @property
    def platform(self) -> str:
        return self.actor.platform


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    actor: Actor
    at: datetime
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    reference: str
    org: str
    kind: IncidentKind
    routes: tuple[Route, ...]
    clause: str | None
    status: Status
    manager_involved: bool
    report: IncidentReport
    reporter: Reporter
    assigned_to: Actor | None
    outcome: Outcome | None
    legal_hold: bool
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClauseRef:
    """The clause of the council's policy a case was routed by, as every alert quotes it."""

    id: str
    section: str
    quote: str
    title: str  # the policy's title


@dataclass(frozen=True, slots=True)
class Notice:
    """What an alert, reminder or update says, as data: adapters render it for their platform.
    A snapshot taken when it was queued, so that a delivery after a restart says the same."""

    purpose: Purpose
    reference: str
    org: str
    council: str
    kind: str
    kind_label: str
    routes: tuple[str, ...]
    status: str
    summary: str
    facts: Mapping[str, Any]
    clause: ClauseRef | None
    advice: str | None = None
    event: Mapping[str, Any] | None = None

    @classmethod
    def of(
        cls,
        case: Case,
        policy: Policy,
        purpose: Purpose,
        summary: str,
        event: Mapping[str, Any] | None = None,
    ) -> Notice:
        """What to say about `case` as it stands."""
        clause = None
        if case.clause:
            found = policy.clause(case.clause)
            clause = ClauseRef(found.id, found.section, found.quote, policy.title)
        advice = None
        if policy.escalations is not None:
            route = policy.escalations.route_for(case.kind, manager_involved=case.manager_involved)
            advice = route.advice
        return cls(
            purpose=purpose,
            reference=case.reference,
            org=case.org,
            council=policy.council,
            kind=case.kind.value,
            kind_label=case.kind.label,
            routes=tuple(route.value for route in case.routes),
            status=case.status.value,
            summary=summary,
            facts=case.report.model_dump(exclude={"org", "kind"}),
            clause=clause,
            advice=advice,
            event=dict(event) if event else None,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, data: str) -> Notice:
        values = json.loads(data)
        values["purpose"] = Purpose(values["purpose"])
        values["routes"] = tuple(values["routes"])
        if values["clause"] is not None:
            values["clause"] = ClauseRef(**values["clause"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row claimed for sending. `thread` is the platform's id of the alert to reply
    under, for thread updates. `direct` says `address` is a person (a direct message to the
    reporter) rather than a channel. A removal names the platform's id of the message to
    delete in `removes`, and carries the tombstone to leave where deleting is not allowed."""

    id: str
    platform: str
    address: str
    notice: Notice
    attempts: int
    thread: str | None = None
    direct: bool = False
    removes: str | None = None
    # When it was queued: no copy of it can have been posted before (a re-send check reads the
    # platform's history back to here, however much was posted since).
    queued_at: datetime | None = None
    # The desk it goes to (alerts, reminders, thread updates), for fallover and metrics.
    route: Route | None = None
    # Whether its case is still open: an alert is never given up while it is.
    case_open: bool = True


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    ASK_REPORTER = "ask_reporter"
    REPORTER_ANSWER = "reporter_answer"
    NOTE = "note"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """`changed` is False for a refusal and for a repeat that changes nothing; `message` says
    which, in words fit to show the person who clicked. A refused person (`refused`) must be
    shown nothing of the case."""

    changed: bool
    message: str
    case: Case | None = None
    refused: bool = False


class UnknownCaseError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class PurgedCase:
    """What is kept of a case once purged: that it was, and what became of its messages."""

    reference: str
    org: str
    kind: IncidentKind
    created_at: datetime
    resolved_at: datetime | None
    purged_at: datetime
    messages_deleted: int
    messages_tombstoned: int
    messages_kept: int
    messages_failed: int


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case with its timeline, as held."""

    case: Case
    events: list[Event]


@dataclass(frozen=True, slots=True)
class PersonCases:
    """Everything the cases hold about one person: the cases they reported, whole, and on
    other cases only what they did (the rest is other people's data)."""

    reported: list[CaseRecord]
    acted_on: list[CaseRecord]
