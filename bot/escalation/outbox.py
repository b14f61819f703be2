"""The outbox: every message a case must send, as rows written in the same transaction as the
change that calls for them, then claimed, sent and recorded by the worker (`delivery`).

- **A claim is an attempt.** Claiming a row takes it for one lease and counts an attempt before
  anything is sent. A worker that dies while sending has used its attempt, so a message that
  crashes every worker moves on to the slow retries like any other failure (`delivery`), and
  the next worker to claim it sees attempts > 1 and knows the message may already be out.
- **A worker whose lease ran out** may still be sending: the row is anyone's to claim again,
  and a second worker may send it too. What it may still do is record what happened: `delivered`
  records its message id, and `failed` changes a row only while it is pending, so a late failure
  never marks dead or due again what another worker delivered.
- **De-duplication, layer by layer.** A replayed report, click or submission is one event: the
  platform's id for it is the event table's unique `dedupe` (a replayed report gets back the
  case it opened). Each message is queued once: an outbox row's unique `dedupe` names its case,
  the step that called for it and where it goes, so two replicas queueing the same reminder make
  one row. Two workers never hold the same row within a lease: the claim
  is `FOR UPDATE SKIP LOCKED` on PostgreSQL and a conditional update on SQLite. A message sent
  just before a crash is not sent again: a claim with attempts > 1 first asks the platform
  whether the message is there (`Channel.already_sent`). A redraw of an alert that a later change
  redraws anyway is superseded at claim time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.escalation.model import (
    Clock,
    Delivery,
    Notice,
    OutboxState,
    Purpose,
    Status,
    utc_now,
)
from bot.escalation.tables import CaseRow, OutboxRow
from bot.knowledge import Route
from bot.storage import Store, aware_utc

# A claimed delivery not confirmed within the lease is anyone's to retry: longer than a send
# with its retries can take, short enough that a crashed worker's claims come back soon.
DEFAULT_LEASE = timedelta(minutes=2)


class Outbox:
    """Claiming due deliveries under a lease, and recording how each went."""

    def __init__(
        self, store: Store, *, lease: timedelta = DEFAULT_LEASE, clock: Clock = utc_now
    ) -> None:
        self._store = store
        self._lease = lease
        self._clock = clock

    async def claim(self, *, limit: int = 50) -> list[Delivery]:
        """Take up to `limit` due deliveries for this worker for one lease. A thread update
        waits until its alert is out, since it is posted under the alert."""
        now = self._clock()
        claimed: list[Delivery] = []
        async with self._store.write_session() as session:
            rows = list(
                await session.scalars(
                    select(OutboxRow)
                    .where(
                        OutboxRow.status == OutboxState.PENDING.value,
                        OutboxRow.next_attempt_at <= now,
                        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                    )
                    .order_by(OutboxRow.next_attempt_at, OutboxRow.created_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            parents: dict[str, OutboxRow] = {}
            wanted = {row.thread_of for row in rows if row.thread_of}
            if wanted:
                found = await session.scalars(select(OutboxRow).where(OutboxRow.id.in_(wanted)))
                parents = {parent.id: parent for parent in found}
            newest = await self._newest_refreshes(session, rows)
            open_cases = set(
                await session.scalars(
                    select(CaseRow.id).where(
                        CaseRow.id.in_({row.case_id for row in rows}),
                        CaseRow.status != Status.RESOLVED.value,
                    )
                )
            )
            for row in rows:
                if row.purpose == Purpose.REFRESH.value and newest.get(row.thread_of) != row.id:
                    # A later change redraws the alert anyway: drawing this one could only
                    # show an older state, should it land after the newer one.
                    row.status = OutboxState.SUPERSEDED.value
                    continue
                parent = parents.get(row.thread_of) if row.thread_of else None
                thread = parent.message_id if parent else None
                if parent is not None and parent.status == OutboxState.DEAD:
                    row.status, row.error = (
                        OutboxState.DEAD.value,
                        "its alert could not be delivered",
                    )
                    continue
                if row.thread_of and thread is None:
                    continue  # its alert is not out yet
                # Conditional on the lease still being free: on SQLite, where FOR UPDATE is
                # not available, two claimers cannot both win the same row.
                taken = await session.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.id == row.id,
                        OutboxRow.status == OutboxState.PENDING.value,
                        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                    )
                    .values(claimed_until=now + self._lease, attempts=OutboxRow.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
                if getattr(taken, "rowcount", 0) != 1:
                    continue
                claimed.append(
                    Delivery(
                        id=row.id,
                        platform=row.platform,
                        address=row.address,
                        notice=Notice.from_json(row.payload),
                        attempts=row.attempts + 1,
                        thread=thread,
                        direct=row.direct,
                        removes=row.removes,
                        queued_at=aware_utc(row.created_at),
                        route=Route(row.route) if row.route else None,
                        case_open=row.case_id in open_cases,
                    )
                )
        return claimed

    @staticmethod
    async def _newest_refreshes(
        session: AsyncSession, rows: Sequence[OutboxRow]
    ) -> dict[str | None, str]:
        """For each alert with a refresh among `rows`, the id of its latest refresh."""
        alerts = {row.thread_of for row in rows if row.purpose == Purpose.REFRESH.value}
        if not alerts:
            return {}
        found = await session.execute(
            select(OutboxRow.thread_of, OutboxRow.id, OutboxRow.payload).where(
                OutboxRow.purpose == Purpose.REFRESH.value, OutboxRow.thread_of.in_(alerts)
            )
        )
        # Ordered by the event that caused each (events are numbered as they happen), not by
        # time, which two quick changes can share.
        latest: dict[str | None, tuple[int, str]] = {}
        for alert, outbox_id, payload in found:
            event = Notice.from_json(payload).event or {}
            step = int(event.get("event_id", 0))
            if alert not in latest or step > latest[alert][0]:
                latest[alert] = (step, outbox_id)
        return {alert: outbox_id for alert, (_, outbox_id) in latest.items()}

    async def delivered(self, delivery: Delivery, message_id: str) -> None:
        """Record the platform's id for the message: the step that makes it sent."""
        async with self._store.write_session() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == delivery.id)
                .values(
                    status=OutboxState.SENT.value,
                    message_id=message_id,
                    sent_at=self._clock(),
                    claimed_until=None,
                    error=None,
                )
            )

    async def failed(
        self,
        delivery: Delivery,
        error: str,
        *,
        retry_at: datetime | None,
    ) -> None:
        """Put a delivery back for another try at `retry_at`, or give up on it (None)."""
        values: dict[str, Any] = {"claimed_until": None, "error": error[:256]}
        if retry_at is None:
            values["status"] = OutboxState.DEAD.value
        else:
            values["next_attempt_at"] = retry_at
        async with self._store.write_session() as session:
            # Only while pending: a worker whose lease ran out may fail after another worker
            # delivered the row, and must not mark it dead or due again.
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == delivery.id, OutboxRow.status == OutboxState.PENDING.value)
                .values(**values)
            )

    async def counts(self) -> dict[str, int]:
        """How many rows are in each state (pending, sent, dead, superseded)."""
        async with self._store.session() as session:
            rows = await session.execute(select(OutboxRow.status))
            counts: dict[str, int] = {}
            for (status,) in rows:
                counts[status] = counts.get(status, 0) + 1
            return counts
