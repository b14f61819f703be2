"""Data protection: what is kept, for how long, and the purge that deletes the rest.

Each council sets how long it keeps resolved cases and question records. A purge deletes
question records at once; a case past retention first has every message posted about it
removed from the chat platforms (through the outbox, so removals are retried like alerts),
then is deleted, leaving only a `PurgedCase` record that it existed. Cases under legal hold
and cases still open are never purged.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, literal, or_, select

from bot.escalation.desks import Destination
from bot.escalation.model import (
    ActionResult,
    Actor,
    Case,
    EventKind,
    Notice,
    OutboxState,
    PurgedCase,
    Purpose,
    Removal,
    Status,
    UnknownCaseError,
    reference_of,
)
from bot.escalation.service import CaseService
from bot.escalation.tables import (
    CaseEventRow,
    CaseRow,
    OutboxRow,
    PurgedCaseRow,
    case_of,
    purged_of,
)
from bot.storage import ConversationRow, Store, aware_utc


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long one council keeps resolved cases, question records and questions' text."""

    cases: timedelta
    questions: timedelta
    question_text: timedelta = timedelta(days=90)


# How long a claimed event id is kept: Slack retries for minutes, Teams re-delivers within
# seconds; a day is far beyond both (security review L7: the table only grew).
CLAIMS_KEPT = timedelta(days=1)


@dataclass(slots=True)
class PurgeReport:
    """What a purge did, or with `dry_run` would do."""

    dry_run: bool
    questions_deleted: dict[str, int] = field(default_factory=dict)
    texts_forgotten: dict[str, int] = field(default_factory=dict)
    # Event ids claimed against re-delivery, older than CLAIMS_KEPT.
    claims_deleted: int = 0
    # References of cases past retention whose messages are now being removed.
    started: list[str] = field(default_factory=list)
    # Past retention, but a delivery was in flight: the next purge takes them.
    postponed: list[str] = field(default_factory=list)
    # Past retention, but under legal hold.
    held: list[str] = field(default_factory=list)
    # Deleted, with what became of their messages.
    finished: list[PurgedCase] = field(default_factory=list)
    # People's own chats with the bot that no remaining case was reported from.
    chats_deleted: int = 0


class Retention(CaseService):
    """Legal holds, and a case's own part of a purge: its messages removed, then the case."""

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
        wanted = reference_of(reference)
        if wanted is None:
            raise UnknownCaseError(reference)
        async with self._store.write_session() as session:
            row = await session.scalar(
                select(CaseRow).where(CaseRow.reference == wanted).with_for_update()
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

    async def forget_chats(self, *, dry_run: bool = False) -> int:
        """Delete the people's own chats (kept to tell a reporter what happens, and holding
        who they are) that no remaining case was reported from (security review L5); returns
        how many were, or with `dry_run` would be, deleted."""
        still_needed = select(literal("teams:") + CaseRow.reporter_address).where(
            CaseRow.reporter_platform == "teams", CaseRow.reporter_address.is_not(None)
        )
        unused = (ConversationRow.personal.is_(True), ConversationRow.id.not_in(still_needed))
        if dry_run:
            async with self._session() as session:
                return int(await session.scalar(select(func.count()).where(*unused)) or 0)
        async with self._store.write_session() as session:
            deleted = await session.execute(delete(ConversationRow).where(*unused))
            return int(getattr(deleted, "rowcount", 0) or 0)

    async def purged(self, reference: str) -> PurgedCase | None:
        """The record left of a purged case, if `reference` was one."""
        async with self._session() as session:
            wanted = reference_of(reference)
            row = await session.get(PurgedCaseRow, wanted) if wanted else None
            return purged_of(row) if row else None


# What puts a message of its own on a platform (a refresh edits its alert's; a removal
# deletes one), so what a purge must remove.
POSTED = frozenset(
    purpose.value for purpose in (Purpose.ALERT, Purpose.REMINDER, Purpose.THREAD, Purpose.REPORTER)
)


def _in_flight(row: OutboxRow, now: datetime) -> bool:
    """Claimed by a worker that may be posting it right now."""
    until = aware_utc(row.claimed_until)
    return row.status == OutboxState.PENDING and until is not None and until > now


async def purge(
    cases: Retention,
    store: Store,
    rule_for: Callable[[str], RetentionRule],
    orgs: Iterable[str],
    *,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete what is past retention. Cases whose messages must first be removed from chat
    finish when the server's outbox worker has removed them (or at the next purge)."""
    now = cases.clock()
    report = PurgeReport(dry_run=dry_run)
    for org in orgs:
        cutoff = now - rule_for(org).questions
        deleted = await store.delete_asked_before(org, cutoff, dry_run=dry_run)
        if deleted:
            report.questions_deleted[org] = deleted
        texts_cutoff = now - rule_for(org).question_text
        forgotten = await store.forget_texts_before(org, texts_cutoff, dry_run=dry_run)
        if forgotten:
            report.texts_forgotten[org] = forgotten
    report.claims_deleted = await store.delete_claims_before(now - CLAIMS_KEPT, dry_run=dry_run)
    due, held = await cases.past_retention(lambda org: rule_for(org).cases)
    report.held = [case.reference for case in held]
    if dry_run:
        report.started = [case.reference for case in due]
        report.chats_deleted = await cases.forget_chats(dry_run=True)
        return report
    for case in due:
        started = await cases.request_purge(case.id)
        (report.started if started else report.postponed).append(case.reference)
    report.finished = await cases.finish_purges()
    report.chats_deleted = await cases.forget_chats()
    return report
