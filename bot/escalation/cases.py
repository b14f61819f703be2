"""Escalation cases: a report becomes a case routed by its council's policy, alerts go out
through an outbox, and the team acts on it until it is resolved.

Everything a case needs to be delivered is written in the transaction that opens it: the case,
its first event and one outbox row per place the alert must reach. A worker
(`bot.escalation.delivery`) delivers the outbox; nothing is sent from a request handler, so a
crash loses nothing.
Every change is an event with its actor and time, and double clicks or replays change nothing.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.escalation import wording
from bot.escalation.access import SubjectAccess
from bot.escalation.desks import Destination, NoDeskError, contacts_for
from bot.escalation.fallover import Fallover
from bot.escalation.model import (
    Action,
    ActionResult,
    Actor,
    Case,
    Event,
    EventKind,
    Outcome,
    Purpose,
    Reporter,
    Status,
)
from bot.escalation.reminders import Reminders
from bot.escalation.report import IncidentReport, ReportError, kind_of
from bot.escalation.retention import Retention
from bot.escalation.tables import CaseEventRow, CaseRow, case_of
from bot.knowledge import Route

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
# Each report alerts a team and reminds it until acknowledged: one person filing dozens is a
# flood (security review H5), and more than a few real incidents an hour is one for a call.
MAX_REPORTS = 5
REPORTS_WINDOW = timedelta(hours=1)


class TooManyReportsError(ReportError):
    """A person who has just made several reports: refused, saying when they may report again
    and that the team can be contacted directly meanwhile."""

    def __init__(self, most: int, window: timedelta) -> None:
        minutes = int(window.total_seconds() // 60)
        super().__init__(
            "report",
            f"You have made {most} reports in the last {minutes} minutes, the most the form "
            "takes; the teams have them. For anything more, contact them directly.",
        )
        self.retry_after = window


class Cases(Reminders, Fallover, Retention, SubjectAccess):
    """Opening cases and acting on them, with every other step of the flow (`CaseService` and
    its steps: reminders, fallover, retention, subject access) and the outbox the delivery
    worker drains."""

    async def open(
        self,
        report: IncidentReport,
        reporter: Reporter,
        *,
        dedupe: str | None = None,
    ) -> Case:
        """Record a report as a case routed by its council's rules, with its alerts queued, in
        one transaction. `dedupe` is the platform's id for the submission: a replay of it
        returns the case it opened. Raises `ReportError` for a council without routing rules,
        and `NoDeskError` when a route it takes has no desk that would see it."""
        now = self.clock()
        if dedupe is not None and (earlier := await self._case_opened_by(dedupe)) is not None:
            return earlier
        policy = self._policies.get(report.org)
        if policy is None:
            raise ReportError("org", f"unknown council {report.org!r}")
        if policy.escalations is None:
            raise ReportError("org", f"{policy.council} has no escalation routes configured")
        kind = report.kind or kind_of(f"{report.what} {report.involved}")
        route = policy.escalations.route_for(kind, manager_involved=report.manager_involved)
        if not all(self._directory.reaches(report.org, each) for each in route.routes):
            raise NoDeskError(policy.council, contacts_for(policy, route.routes))
        prefix = report.org.replace("-", "")[:3].upper()
        row = CaseRow(
            id=uuid.uuid4().hex,
            reference=f"{prefix}-{''.join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))}",
            org=report.org,
            kind=kind.value,
            routes=",".join(r.value for r in route.routes),
            clause=route.clause,
            status=Status.OPEN.value,
            manager_involved=report.manager_involved,
            report=report.model_copy(update={"kind": kind}).model_dump_json(),
            reporter_id=str(reporter.actor),
            reporter_platform=reporter.platform,
            reporter_address=reporter.address,
            legal_hold=False,
            created_at=now,
            reminders_sent=0,
        )
        desks = {r: self._directory.desk(report.org, r) for r in route.routes}
        row.next_reminder_at = now + min(desk.remind_every for desk in desks.values())
        try:
            async with self._store.write_session() as session:
                # Counted in the transaction that adds the case: this server's writes take
                # turns, so reports sent all at once cannot all slip under the limit.
                lately = await self._reported_lately(session, reporter.actor, now - REPORTS_WINDOW)
                if lately >= MAX_REPORTS:
                    raise TooManyReportsError(MAX_REPORTS, REPORTS_WINDOW)
                session.add(row)
                await session.flush()
                event = CaseEventRow(
                    case_id=row.id,
                    kind=EventKind.REPORTED.value,
                    actor=str(reporter.actor),
                    detail=json.dumps({"routes": row.routes, "kind": kind.value}),
                    at=now,
                    dedupe=dedupe,
                )
                session.add(event)
                await session.flush()
                summary = wording.new_report(row.reference, kind)
                alert = self._notice(row, Purpose.ALERT, summary)
                for each_route, desk in desks.items():
                    self._queue_to_desk(
                        session,
                        row,
                        desk.destinations,
                        purpose=Purpose.ALERT,
                        step="alert",
                        route=each_route,
                        notice=alert,
                        now=now,
                    )
                if row.reporter_address:
                    self._queue(
                        session,
                        row,
                        purpose=Purpose.REPORTER,
                        destination=Destination(row.reporter_platform, row.reporter_address),
                        dedupe=f"{row.id}:reported:reporter",
                        notice=self._notice(
                            row,
                            Purpose.REPORTER,
                            wording.reporter_thanks(row.reference, route.routes),
                        ),
                        now=now,
                    )
        except IntegrityError:
            # The same submission delivered twice at once (a Slack retry racing the first):
            # the case-event dedupe key let one through; the other gets the case it opened.
            if dedupe is not None and (earlier := await self._case_opened_by(dedupe)) is not None:
                return earlier
            raise
        self._queued()
        return case_of(row)

    @staticmethod
    async def _reported_lately(session: AsyncSession, reporter: Actor, since: datetime) -> int:
        found = await session.scalar(
            select(func.count()).where(
                CaseRow.reporter_id == str(reporter), CaseRow.created_at >= since
            )
        )
        return found or 0

    async def _case_opened_by(self, dedupe: str) -> Case | None:
        async with self._session() as session:
            row = await session.scalar(
                select(CaseRow)
                .join(CaseEventRow, CaseEventRow.case_id == CaseRow.id)
                .where(CaseEventRow.dedupe == dedupe)
            )
            return case_of(row) if row else None

    async def find(
        self,
        *,
        org: str | None = None,
        status: Status | None = None,
        route: Route | None = None,
        before: str | None = None,
        limit: int = 200,
    ) -> list[Case]:
        """Cases, newest first, up to `limit`; with `before` (a case's reference), the ones
        after it in that order: the next page. Raises `UnknownCaseError` for an unknown one."""
        query = select(CaseRow).order_by(CaseRow.created_at.desc(), CaseRow.id.desc()).limit(limit)
        if before is not None:
            last = await self.get(before)
            query = query.where(
                or_(
                    CaseRow.created_at < last.created_at,
                    and_(CaseRow.created_at == last.created_at, CaseRow.id < last.id),
                )
            )
        if org:
            query = query.where(CaseRow.org == org)
        if status:
            query = query.where(CaseRow.status == status.value)
        if route:
            query = query.where(CaseRow.routes.contains(route.value))
        async with self._session() as session:
            return [case_of(row) for row in await session.scalars(query)]

    async def timeline(self, reference: str) -> list[Event]:
        case = await self.get(reference)
        async with self._session() as session:
            return await self._events(session, case.id)

    def may_act(self, case: Case, actor: Actor) -> bool:
        """Whether `actor` is on a team the case went to (or signed in to the admin page).
        Adapters may also vouch for membership they checked with the platform."""
        if actor.platform == "admin":
            return True
        return any(actor in self._directory.desk(case.org, route).members for route in case.routes)

    async def act(
        self,
        reference: str,
        action: Action,
        *,
        actor: Actor,
        member: bool | None = None,
        text: str = "",
        outcome: Outcome | None = None,
        dedupe: str | None = None,
    ) -> ActionResult:
        """Apply one team action. `member` is the adapter's own check with the platform (a user
        group, a channel's members); without it, the configured member list decides. A refusal
        is recorded as an event; a replay (same `dedupe`) or a repeat changes nothing."""
        now = self.clock()
        case = await self.get(reference)
        allowed = (action is Action.REPORTER_ANSWER and actor == case.reporter.actor) or (
            action is not Action.REPORTER_ANSWER and (member or self.may_act(case, actor))
        )
        async with self._store.write_session() as session:
            row = await session.get(CaseRow, case.id, with_for_update=True)
            assert row is not None
            if dedupe is not None and await session.scalar(
                select(CaseEventRow.id).where(CaseEventRow.dedupe == dedupe)
            ):
                return ActionResult(False, "Already done.", case_of(row))
            if row.purge_requested_at is not None:
                return ActionResult(
                    False, f"{row.reference} is past retention and being deleted.", case_of(row)
                )
            if not allowed:
                session.add(
                    CaseEventRow(
                        case_id=row.id,
                        kind=EventKind.REFUSED.value,
                        actor=str(actor),
                        detail=json.dumps({"action": action.value}),
                        at=now,
                    )
                )
                refusal = (
                    "Only the person who reported it can answer."
                    if action is Action.REPORTER_ANSWER
                    else wording.NOT_YOUR_CASE
                )
                return ActionResult(False, refusal, case_of(row), refused=True)
            change = self._apply(row, action, actor=actor, text=text, outcome=outcome, now=now)
            if change is None:
                return ActionResult(False, _unchanged_message(row, action), case_of(row))
            kind, detail = change
            summary = wording.team_line(kind, detail, row.reference, actor)
            event = CaseEventRow(
                case_id=row.id,
                kind=kind.value,
                actor=str(actor),
                detail=json.dumps(detail),
                at=now,
                dedupe=dedupe,
            )
            session.add(event)
            try:
                await session.flush()
            except IntegrityError:  # the same click, recorded a moment ago elsewhere
                await session.rollback()
                return ActionResult(False, "Already done.", case)
            await self._tell_everyone(
                session,
                row,
                event.id,
                {"kind": kind.value, "actor": str(actor), "event_id": event.id, **detail},
                summary,
                now,
                reporter_summary=wording.reporter_notice(kind, detail, row.reference),
                redraw=kind in REDRAWN_BY,
            )
            result = ActionResult(True, summary, case_of(row))
        self._queued()
        return result

    @staticmethod
    def _apply(
        row: CaseRow,
        action: Action,
        *,
        actor: Actor,
        text: str,
        outcome: Outcome | None,
        now: datetime,
    ) -> tuple[EventKind, dict[str, Any]] | None:
        """The change an action makes to the row, as the event it records (kind and detail),
        or None when it would change nothing."""
        if row.status == Status.RESOLVED.value and action is not Action.NOTE:
            return None
        if action is Action.ACKNOWLEDGE:
            if row.status != Status.OPEN.value:
                return None
            _acknowledge(row, now)
            return EventKind.ACKNOWLEDGED, {}
        if action is Action.ASSIGN:
            if row.assigned_to == str(actor):
                return None
            row.assigned_to = str(actor)
            if row.status == Status.OPEN.value:
                _acknowledge(row, now)
            return EventKind.ASSIGNED, {"to": str(actor)}
        if action in SAYINGS:
            said = text.strip()
            if not said:
                return None
            kind, key = SAYINGS[action]
            return kind, {key: said}
        if action is Action.RESOLVE:
            if outcome is None:
                return None
            row.status = Status.RESOLVED.value
            row.outcome = outcome.value
            row.resolved_at = now
            row.next_reminder_at = None
            return EventKind.RESOLVED, {"outcome": outcome.value}
        return None


# The actions that only say something: the event each records, and its detail's key.
SAYINGS: Mapping[Action, tuple[EventKind, str]] = {
    Action.ASK_REPORTER: (EventKind.ASKED_REPORTER, "question"),
    Action.REPORTER_ANSWER: (EventKind.REPORTER_ANSWERED, "answer"),
    Action.NOTE: (EventKind.NOTE, "note"),
}


# The events after which an alert no longer shows the case as it stands.
REDRAWN_BY = frozenset({EventKind.ACKNOWLEDGED, EventKind.ASSIGNED, EventKind.RESOLVED})


def _acknowledge(row: CaseRow, now: datetime) -> None:
    """Someone on the team has it: reminders stop."""
    row.status = Status.ACKNOWLEDGED.value
    row.acknowledged_at = now
    row.next_reminder_at = None


def _unchanged_message(row: CaseRow, action: Action) -> str:
    if row.status == Status.RESOLVED.value:
        return f"{row.reference} is already resolved."
    if action is Action.ACKNOWLEDGE:
        return f"{row.reference} is already acknowledged."
    if action is Action.ASSIGN:
        return f"{row.reference} is already assigned to you."
    return "Nothing to change."
