"""Fallover: an alert its desk's channel has not taken after the fast retries goes to the desk's
backup destinations as well, so that an outage of one platform does not leave a case unseen.
The first alert keeps being retried; thread updates go to whichever alerts arrive."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.escalation.desks import Destination
from bot.escalation.model import Delivery, Purpose
from bot.escalation.service import CaseService
from bot.escalation.tables import CaseRow, OutboxRow


class Fallover(CaseService):
    """The fallover step of the flow, run by the outbox worker when an alert keeps failing."""

    async def fall_over(self, delivery: Delivery) -> int:
        """Queue the alert `delivery` carries to its desk's backup destinations that this
        server can post to, once each; returns how many were queued."""
        if delivery.route is None:
            return 0
        failing = Destination(delivery.platform, delivery.address)
        try:
            async with self._store.write_session() as session:
                row = await session.scalar(
                    select(CaseRow)
                    .join(OutboxRow, OutboxRow.case_id == CaseRow.id)
                    .where(OutboxRow.id == delivery.id)
                )
                if row is None:
                    return 0
                desk = self._directory.desk(row.org, delivery.route)
                backup = [
                    where
                    for where in desk.backup
                    if where != failing and self._directory.postable(where)
                ]
                queued = self._queue_to_desk(
                    session,
                    row,
                    backup,
                    purpose=Purpose.ALERT,
                    step="fallover",
                    route=delivery.route,
                    notice=delivery.notice,
                    now=self.clock(),
                )
        except IntegrityError:  # another alert of the same desk fell over first
            return 0
        if queued:
            self._queued()
        return queued
