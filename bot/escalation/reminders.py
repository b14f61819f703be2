"""Reminders: an open case nobody has acknowledged is raised again on its desk's schedule, and
after a few reminders goes to the desk's backup too."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.escalation import wording
from bot.escalation.model import POLICYBOT, EventKind, Purpose, Status
from bot.escalation.service import CaseService
from bot.escalation.tables import CaseEventRow, CaseRow
from bot.knowledge import Route
from bot.storage import aware_utc


class Reminders(CaseService):
    """The reminders step of the flow, run by the outbox worker before each pass."""

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
                    queued += self._queue_to_desk(
                        session,
                        row,
                        targets,
                        purpose=Purpose.REMINDER,
                        step=f"reminder:{step}",
                        route=route,
                        notice=notice,
                        now=now,
                    )
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
