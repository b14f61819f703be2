"""Subject access: everything the cases hold about one person, for an export or a purge of
their data."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.escalation.model import Actor, CaseRecord, PersonCases
from bot.escalation.service import CaseService
from bot.escalation.tables import CaseEventRow, CaseRow, case_of


class SubjectAccess(CaseService):
    """Finding a person's part in the cases."""

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
