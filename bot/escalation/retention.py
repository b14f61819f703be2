"""Data protection: what is kept, for how long, and the purge that deletes the rest.

Each council sets how long it keeps resolved cases and question records. A purge deletes
question records at once; a case past retention first has every message posted about it
removed from the chat platforms (through the outbox, so removals are retried like alerts),
then is deleted, leaving only a `PurgedCase` record that it existed. Cases under legal hold
and cases still open are never purged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.escalation.cases import Cases
from bot.escalation.model import PurgedCase
from bot.storage import Store


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long one council keeps resolved cases and question records."""

    cases: timedelta
    questions: timedelta


@dataclass(slots=True)
class PurgeReport:
    """What a purge did, or with `dry_run` would do."""

    dry_run: bool
    questions_deleted: dict[str, int] = field(default_factory=dict)
    # References of cases past retention whose messages are now being removed.
    started: list[str] = field(default_factory=list)
    # Past retention, but a delivery was in flight: the next purge takes them.
    postponed: list[str] = field(default_factory=list)
    # Past retention, but under legal hold.
    held: list[str] = field(default_factory=list)
    # Deleted, with what became of their messages.
    finished: list[PurgedCase] = field(default_factory=list)


async def purge(
    cases: Cases,
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
    due, held = await cases.past_retention(lambda org: rule_for(org).cases)
    report.held = [case.reference for case in held]
    if dry_run:
        report.started = [case.reference for case in due]
        return report
    for case in due:
        started = await cases.request_purge(case.id)
        (report.started if started else report.postponed).append(case.reference)
    report.finished = await cases.finish_purges()
    return report
