"""What every step of the escalation flow shares: the database, the councils' policies and
desks, the clock, and queueing the notices a change sends (into the outbox, in the change's own
transaction) to the team's alert threads and to the reporter.

`Cases` (cases.py) is this service with every step: opening and acting on cases, reminders
(reminders.py), retention (retention.py) and subject access (access.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.escalation.desks import DeskProblem, Destination, Directory
from bot.escalation.model import (
    AlertDelivery,
    Case,
    Clock,
    Event,
    Notice,
    OutboxState,
    PipelineState,
    Purpose,
    Status,
    UnknownCaseError,
    reference_of,
    utc_now,
)
from bot.escalation.outbox import DEFAULT_LEASE, Outbox
from bot.escalation.tables import CaseEventRow, CaseRow, OutboxRow, case_of, event_of
from bot.knowledge import Policy, Route
from bot.storage import Store, aware_utc


class CaseService:
    """The state and helpers the steps of the flow share."""

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

    def takes_reports(self, org: str | None) -> bool:
        """Whether reports for this council reach a person here (see `Directory.takes_reports`)."""
        if org is None or (policy := self._policies.get(org)) is None:
            return False
        return self._directory.takes_reports(org, policy)

    def desk_problems(self) -> list[DeskProblem]:
        """Councils' routes whose reports would reach nobody here (`Directory.problems`)."""
        return self._directory.problems(self._policies)

    def on_queued(self, listener: Callable[[], None]) -> None:
        """Call `listener` after a transaction queued deliveries (the worker wakes for it)."""
        self._listeners.append(listener)

    def _queued(self) -> None:
        for listener in self._listeners:
            listener()

    def _session(self) -> AsyncSession:
        return self._store.session()

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

    def _queue_to_desk(
        self,
        session: AsyncSession,
        row: CaseRow,
        destinations: Sequence[Destination],
        *,
        purpose: Purpose,
        step: str,
        route: Route,
        notice: Notice,
        now: datetime,
    ) -> int:
        """Queue `notice` to each of a route's `destinations`, once each: keyed by the case, the
        step ("alert", "reminder:2"), the route and the place. Returns how many were queued."""
        for destination in destinations:
            self._queue(
                session,
                row,
                purpose=purpose,
                destination=destination,
                dedupe=f"{row.id}:{step}:{route.value}:{destination.platform}:"
                f"{destination.address}",
                notice=notice,
                now=now,
                route=route,
            )
        return len(destinations)

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

    async def alerts(self, case_ids: Sequence[str]) -> dict[str, list[AlertDelivery]]:
        """How each case's alerts are doing, by case id (cases with none are left out)."""
        found: dict[str, list[AlertDelivery]] = {}
        async with self._session() as session:
            rows = await session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.case_id.in_(case_ids),
                    OutboxRow.purpose == Purpose.ALERT.value,
                )
                .order_by(OutboxRow.created_at)
            )
            for row in rows:
                found.setdefault(row.case_id, []).append(
                    AlertDelivery(
                        route=Route(row.route) if row.route else None,
                        platform=row.platform,
                        address=row.address,
                        state=OutboxState(row.status),
                        attempts=row.attempts,
                        error=row.error,
                    )
                )
        return found

    async def pipeline(self) -> PipelineState:
        """Where the pipeline stands now (`PipelineState`), in four aggregate queries."""
        now = self.clock()
        pending = OutboxRow.status == OutboxState.PENDING.value
        async with self._session() as session:
            by_state = await session.execute(
                select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
            )
            oldest = await session.scalar(select(func.min(OutboxRow.created_at)).where(pending))
            overdue = await session.execute(
                select(CaseRow.org, func.count())
                .where(CaseRow.status == Status.OPEN.value, CaseRow.reminders_sent > 0)
                .group_by(CaseRow.org)
            )
            failing = await session.execute(
                select(CaseRow.org, OutboxRow.route, func.count())
                .join(CaseRow, CaseRow.id == OutboxRow.case_id)
                .where(pending, OutboxRow.error.is_not(None))
                .group_by(CaseRow.org, OutboxRow.route)
            )
            oldest_at = aware_utc(oldest)
            return PipelineState(
                outbox={OutboxState(state): count for state, count in by_state},
                oldest_undelivered=now - oldest_at if oldest_at else None,
                overdue=dict(overdue.all()),
                failing={
                    (org, Route(route) if route else None): count for org, route, count in failing
                },
            )

    async def get(self, reference: str) -> Case:
        wanted = reference_of(reference)
        if wanted is None:
            raise UnknownCaseError(reference)
        async with self._session() as session:
            row = await session.scalar(select(CaseRow).where(CaseRow.reference == wanted))
            if row is None:
                raise UnknownCaseError(reference)
            return case_of(row)

    @staticmethod
    async def _events(session: AsyncSession, case_id: str) -> list[Event]:
        rows = await session.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        )
        return [event_of(row) for row in rows]
