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
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.escalation import wording
from bot.escalation.desks import Destination, Directory
from bot.escalation.model import (
    POLICYBOT,
    Action,
    ActionResult,
    Actor,
    Case,
    CaseRecord,
    Clock,
    Event,
    EventKind,
    Notice,
    OutboxState,
    Outcome,
    PersonCases,
    PurgedCase,
    Purpose,
    Removal,
    Reporter,
    Status,
    UnknownCaseError,
    utc_now,
)
from bot.escalation.outbox import DEFAULT_LEASE, Outbox
from bot.escalation.report import IncidentReport, ReportError, kind_of
from bot.escalation.tables import (
    CaseEventRow,
    CaseRow,
    OutboxRow,
    PurgedCaseRow,
    case_of,
    event_of,
    purged_of,
)
from bot.knowledge import Policy, Route
from bot.storage import Store, aware_utc

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


class Cases:
    """Opening cases, acting on them, and the outbox the delivery worker drains."""

    def __init__(
        self,
        store: Store,
        policies: Mapping[str, Policy],
        directory: Directory,
        *,
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self.clock = clock
        self.outbox = Outbox(store, lease=lease, clock=clock)
        self._policies = policies
        self._directory = directory
        self._listeners: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> None:
        """Call `listener` after a transaction queued deliveries (the worker wakes for it)."""
        self._listeners.append(listener)

    def _queued(self) -> None:
        for listener in self._listeners:
            listener()

    def _session(self) -> AsyncSession:
        return self._store.session()

    # -- notices

    def _notice(
        self,
        row: CaseRow,
        purpose: Purpose,
        summary: str,
        event: Mapping[str, Any] | None = None,
    ) -> Notice:
        return Notice.of(case_of(row), self._policies[row.org], purpose, summary, event)

    def _queue(
        self,
        session: AsyncSession,
        row: CaseRow,
        *,
        purpose: Purpose,
        destination: Destination,
        dedupe: str,
        notice: Notice,
        now: datetime,
        route: Route | None = None,
        thread_of: str | None = None,
        direct: bool | None = None,
        removes: str | None = None,
    ) -> str:
        outbox_id = uuid.uuid4().hex
        session.add(
            OutboxRow(
                id=outbox_id,
                case_id=row.id,
                dedupe=dedupe,
                purpose=purpose.value,
                route=route.value if route else None,
                platform=destination.platform,
                address=destination.address,
                thread_of=thread_of,
                direct=purpose is Purpose.REPORTER if direct is None else direct,
                removes=removes,
                payload=notice.to_json(),
                status=OutboxState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        return outbox_id

    async def _alerts_of(self, session: AsyncSession, case_id: str) -> list[OutboxRow]:
        rows = await session.scalars(
            select(OutboxRow).where(
                OutboxRow.case_id == case_id, OutboxRow.purpose == Purpose.ALERT.value
            )
        )
        return list(rows)

    async def _tell_everyone(
        self,
        session: AsyncSession,
        row: CaseRow,
        event_id: int,
        event: Mapping[str, Any],
        summary: str,
        now: datetime,
        *,
        reporter_summary: str | None = None,
        redraw: bool = False,
    ) -> None:
        """A change goes into every alert's thread, and to the reporter when they should know.
        With `redraw` (the status or assignee changed), each alert is redrawn as well."""
        purposes = (Purpose.THREAD, Purpose.REFRESH) if redraw else (Purpose.THREAD,)
        notices = {purpose: self._notice(row, purpose, summary, event) for purpose in purposes}
        for alert in await self._alerts_of(session, row.id):
            for purpose, said in notices.items():
                self._queue(
                    session,
                    row,
                    purpose=purpose,
                    destination=Destination(alert.platform, alert.address),
                    dedupe=f"{row.id}:event:{event_id}:{alert.id}:{purpose.value}",
                    notice=said,
                    now=now,
                    route=Route(alert.route) if alert.route else None,
                    thread_of=alert.id,
                )
        if reporter_summary and row.reporter_address:
            self._queue(
                session,
                row,
                purpose=Purpose.REPORTER,
                destination=Destination(row.reporter_platform, row.reporter_address),
                dedupe=f"{row.id}:event:{event_id}:reporter",
                notice=self._notice(row, Purpose.REPORTER, reporter_summary, event),
                now=now,
            )

    # -- opening

    async def open(
        self,
        report: IncidentReport,
        reporter: Reporter,
        *,
        dedupe: str | None = None,
    ) -> Case:
        """Record a report as a case routed by its council's rules, with its alerts queued, in
        one transaction. `dedupe` is the platform's id for the submission: a replay of it
        returns the case it opened. Raises `ReportError` for a council without routing rules."""
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
        intervals = [desk.remind_every for desk in desks.values() if desk.destinations]
        row.next_reminder_at = now + min(intervals) if intervals else None
        async with self._store.write_session() as session:
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
                for destination in desk.destinations:
                    self._queue(
                        session,
                        row,
                        purpose=Purpose.ALERT,
                        destination=destination,
                        dedupe=f"{row.id}:alert:{each_route.value}:{destination.platform}:"
                        f"{destination.address}",
                        notice=alert,
                        now=now,
                        route=each_route,
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
        self._queued()
        return case_of(row)

    async def _case_opened_by(self, dedupe: str) -> Case | None:
        async with self._session() as session:
            row = await session.scalar(
                select(CaseRow)
                .join(CaseEventRow, CaseEventRow.case_id == CaseRow.id)
                .where(CaseEventRow.dedupe == dedupe)
            )
            return case_of(row) if row else None

    # -- reading

    async def get(self, reference: str) -> Case:
        async with self._session() as session:
            row = await session.scalar(
                select(CaseRow).where(CaseRow.reference == reference.strip().upper())
            )
            if row is None:
                raise UnknownCaseError(reference)
            return case_of(row)

    async def find(
        self,
        *,
        org: str | None = None,
        status: Status | None = None,
        route: Route | None = None,
        limit: int = 200,
    ) -> list[Case]:
        query = select(CaseRow).order_by(CaseRow.created_at.desc()).limit(limit)
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

    # -- acting

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
                    else "Only the team this case was sent to can act on it."
                )
                return ActionResult(False, refusal, case_of(row))
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

    # -- data protection

    async def set_legal_hold(
        self,
        reference: str,
        *,
        held: bool,
        actor: Actor,
        reason: str = "",
    ) -> ActionResult:
        """Put a case under legal hold (never purged while held) or release it; an event
        records who and why."""
        now = self.clock()
        async with self._store.write_session() as session:
            row = await session.scalar(
                select(CaseRow)
                .where(CaseRow.reference == reference.strip().upper())
                .with_for_update()
            )
            if row is None:
                raise UnknownCaseError(reference)
            if row.purge_requested_at is not None:
                return ActionResult(
                    False, f"{row.reference} is already being purged.", case_of(row)
                )
            if row.legal_hold == held:
                state = "already under" if held else "not under"
                return ActionResult(False, f"{row.reference} is {state} legal hold.", case_of(row))
            row.legal_hold = held
            session.add(
                CaseEventRow(
                    case_id=row.id,
                    kind=(EventKind.LEGAL_HOLD if held else EventKind.HOLD_RELEASED).value,
                    actor=str(actor),
                    detail=json.dumps({"reason": reason.strip()} if reason.strip() else {}),
                    at=now,
                )
            )
            message = (
                f"{row.reference} is under legal hold: it will not be purged."
                if held
                else f"{row.reference} is released from legal hold."
            )
            return ActionResult(True, message, case_of(row))

    async def past_retention(
        self, keep_for: Callable[[str], timedelta]
    ) -> tuple[list[Case], list[Case]]:
        """Resolved cases kept longer than their council keeps cases (`keep_for(org)`, counted
        from the resolution), oldest first: (to purge, under legal hold). Open cases are
        never past retention: someone is still working on them."""
        now = self.clock()
        due = or_(
            *(
                and_(CaseRow.org == org, CaseRow.resolved_at <= now - keep_for(org))
                for org in self._policies
            )
        )
        async with self._session() as session:
            rows = await session.scalars(
                select(CaseRow)
                .where(
                    CaseRow.status == Status.RESOLVED.value,
                    CaseRow.purge_requested_at.is_(None),
                    due,
                )
                .order_by(CaseRow.resolved_at)
            )
            found = [case_of(row) for row in rows]
        return [c for c in found if not c.legal_hold], [c for c in found if c.legal_hold]

    async def request_purge(self, case_id: str) -> bool:
        """Begin purging a case: every message sent about it is queued for removal, and what
        had not gone out yet never will. The case itself is deleted by `finish_purges` once
        the removals are done. False (nothing changed) for a case under legal hold, one
        already being purged, or one with a delivery in flight this moment."""
        now = self.clock()
        async with self._store.write_session() as session:
            row = await session.get(CaseRow, case_id, with_for_update=True)
            if row is None or row.legal_hold or row.purge_requested_at is not None:
                return False
            outbox = list(
                await session.scalars(select(OutboxRow).where(OutboxRow.case_id == row.id))
            )
            if any(_in_flight(each, now) for each in outbox):
                return False  # it may be posted a moment from now: purge on the next run
            policy = self._policies[row.org]
            tombstone = Notice(
                purpose=Purpose.REMOVAL,
                reference=row.reference,
                org=row.org,
                council=policy.council,
                kind=row.kind,
                kind_label="",
                routes=(),
                status="purged",
                summary=f"Report {row.reference} was deleted under {policy.council}'s retention "
                "policy.",
                facts={},
                clause=None,
            )
            for each in outbox:
                if each.status == OutboxState.PENDING:
                    each.status, each.error = "cancelled", "case purged"
                elif each.status == OutboxState.SENT and each.message_id and each.purpose in POSTED:
                    self._queue(
                        session,
                        row,
                        purpose=Purpose.REMOVAL,
                        destination=Destination(each.platform, each.address),
                        dedupe=f"{row.id}:remove:{each.id}",
                        notice=tombstone,
                        now=now,
                        thread_of=each.thread_of,
                        direct=each.direct,
                        removes=each.message_id,
                    )
            row.purge_requested_at = now
        self._queued()
        return True

    async def finish_purges(self) -> list[PurgedCase]:
        """Delete every case whose messages have all been dealt with, keeping only a
        `PurgedCase` record of it."""
        now = self.clock()
        finished: list[PurgedCase] = []
        async with self._store.write_session() as session:
            rows = await session.scalars(
                select(CaseRow)
                .where(CaseRow.purge_requested_at.is_not(None))
                .with_for_update(skip_locked=True)
            )
            for row in list(rows):
                outbox = list(
                    await session.scalars(select(OutboxRow).where(OutboxRow.case_id == row.id))
                )
                if any(each.status == OutboxState.PENDING for each in outbox):
                    continue  # removals still on their way
                outcomes = Counter(
                    each.message_id if each.status == OutboxState.SENT else "failed"
                    for each in outbox
                    if each.purpose == Purpose.REMOVAL.value
                )
                record = PurgedCaseRow(
                    reference=row.reference,
                    org=row.org,
                    kind=row.kind,
                    created_at=row.created_at,
                    resolved_at=row.resolved_at,
                    purged_at=now,
                    messages_deleted=outcomes[Removal.DELETED.value],
                    messages_tombstoned=outcomes[Removal.TOMBSTONED.value],
                    messages_kept=outcomes[Removal.KEPT.value],
                    messages_failed=outcomes["failed"],
                )
                await session.execute(delete(CaseEventRow).where(CaseEventRow.case_id == row.id))
                await session.execute(delete(OutboxRow).where(OutboxRow.case_id == row.id))
                await session.execute(delete(CaseRow).where(CaseRow.id == row.id))
                session.add(record)
                finished.append(purged_of(record))
        return finished

    async def purged(self, reference: str) -> PurgedCase | None:
        """The record left of a purged case, if `reference` was one."""
        async with self._session() as session:
            row = await session.get(PurgedCaseRow, reference.strip().upper())
            return purged_of(row) if row else None

    async def reported_by(self, person: Actor, *, name: str | None = None) -> list[CaseRecord]:
        """The cases `person` reported, with their timelines.
        `name` also finds reports filed under that name, which is how a web reporter (who has
        no account) is found."""
        async with self._session() as session:
            return [
                CaseRecord(case_of(row), await self._events(session, row.id))
                for row in await self._reported_rows(session, person, name)
            ]

    async def involving(self, person: Actor, *, name: str | None = None) -> PersonCases:
        """Everything about `person`: the cases they reported (see `reported_by`), and what
        they did on others."""
        async with self._session() as session:
            reported = await self._reported_rows(session, person, name)
            records = [
                CaseRecord(case_of(row), await self._events(session, row.id)) for row in reported
            ]
            acted = await session.scalars(
                select(CaseRow)
                .where(
                    CaseRow.id.not_in([row.id for row in reported]),
                    or_(
                        CaseRow.assigned_to == str(person),
                        CaseRow.id.in_(
                            select(CaseEventRow.case_id).where(CaseEventRow.actor == str(person))
                        ),
                    ),
                )
                .order_by(CaseRow.created_at)
            )
            acted_on = [
                CaseRecord(
                    case_of(row),
                    [e for e in await self._events(session, row.id) if e.actor == person],
                )
                for row in acted
            ]
        return PersonCases(reported=records, acted_on=acted_on)

    @staticmethod
    async def _reported_rows(
        session: AsyncSession, person: Actor, name: str | None
    ) -> list[CaseRow]:
        reported = list(
            await session.scalars(
                select(CaseRow)
                .where(CaseRow.reporter_id == str(person))
                .order_by(CaseRow.created_at)
            )
        )
        if name and name.strip():
            wanted = name.strip().casefold()
            candidates = await session.scalars(
                select(CaseRow).where(CaseRow.report.icontains(name.strip()))
            )
            reported += [
                row
                for row in candidates
                if row not in reported and case_of(row).report.reporter.name.casefold() == wanted
            ]
        return reported

    @staticmethod
    async def _events(session: AsyncSession, case_id: str) -> list[Event]:
        rows = await session.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        )
        return [event_of(row) for row in rows]

    # -- reminders

    async def queue_due_reminders(self) -> int:
        """Queue a reminder for every open case whose time has come, and set its next one.
        Claimed with SKIP LOCKED on PostgreSQL and keyed by step, so that several replicas
        send each reminder once."""
        now = self.clock()
        queued = 0
        async with self._store.write_session() as session:
            due = await session.scalars(
                select(CaseRow)
                .where(
                    CaseRow.status == Status.OPEN.value,
                    CaseRow.next_reminder_at.is_not(None),
                    CaseRow.next_reminder_at <= now,
                )
                .order_by(CaseRow.next_reminder_at)
                .limit(100)
                .with_for_update(skip_locked=True)
            )
            for row in due:
                step = row.reminders_sent + 1
                minutes = int((now - (aware_utc(row.created_at) or now)).total_seconds() // 60)
                summary = wording.reminder(row.reference, minutes)
                notice = self._notice(row, Purpose.REMINDER, summary)
                intervals = []
                for route in (Route(r) for r in row.routes.split(",")):
                    desk = self._directory.desk(row.org, route)
                    if not desk.destinations:
                        continue
                    intervals.append(desk.remind_every)
                    targets = list(desk.destinations)
                    if step >= desk.reminders_before_backup:
                        targets += desk.backup
                    for destination in targets:
                        self._queue(
                            session,
                            row,
                            purpose=Purpose.REMINDER,
                            destination=destination,
                            dedupe=f"{row.id}:reminder:{step}:{route.value}:"
                            f"{destination.platform}:{destination.address}",
                            notice=notice,
                            now=now,
                            route=route,
                        )
                        queued += 1
                row.reminders_sent = step
                row.next_reminder_at = now + min(intervals) if intervals else None
                session.add(
                    CaseEventRow(
                        case_id=row.id,
                        kind=EventKind.REMINDED.value,
                        actor=str(POLICYBOT),
                        detail=json.dumps({"step": step}),
                        at=now,
                    )
                )
        return queued


# The actions that only say something: the event each records, and its detail's key.
SAYINGS: Mapping[Action, tuple[EventKind, str]] = {
    Action.ASK_REPORTER: (EventKind.ASKED_REPORTER, "question"),
    Action.REPORTER_ANSWER: (EventKind.REPORTER_ANSWERED, "answer"),
    Action.NOTE: (EventKind.NOTE, "note"),
}


# What puts a message of its own on a platform (a refresh edits its alert's; a removal
# deletes one), so what a purge must remove.
POSTED = frozenset(
    purpose.value for purpose in (Purpose.ALERT, Purpose.REMINDER, Purpose.THREAD, Purpose.REPORTER)
)
# The events after which an alert no longer shows the case as it stands.
REDRAWN_BY = frozenset({EventKind.ACKNOWLEDGED, EventKind.ASSIGNED, EventKind.RESOLVED})


def _in_flight(row: OutboxRow, now: datetime) -> bool:
    """Claimed by a worker that may be posting it right now."""
    until = aware_utc(row.claimed_until)
    return row.status == OutboxState.PENDING and until is not None and until > now


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
