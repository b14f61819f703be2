"""Retention on SQLite and PostgreSQL: resolved cases past their council's retention lose their
chat messages and then their rows; legal holds, open cases and recent ones are kept; question
records go at their own age; and one person's data can be found whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.escalation.cases import Cases
from bot.escalation.delivery import OutboxWorker
from bot.escalation.model import Action, Actor, Outcome, Reporter, UnknownCaseError
from bot.escalation.report import parse_report
from bot.escalation.retention import RetentionRule, purge
from bot.knowledge import KnowledgeBase
from bot.storage import Asked, Store
from tests.bot.escalation.case_fixtures import REPORTER, Clock, RecordingChannel, directory, report

MONTH = RetentionRule(cases=timedelta(days=30), questions=timedelta(days=90))


def month(org: str) -> RetentionRule:
    return MONTH


@pytest.fixture
def cases(store: Store, knowledge: KnowledgeBase, clock: Clock) -> Cases:
    return Cases(store, knowledge.policies, directory(), clock=clock)


async def resolved_case(cases: Cases, clock: Clock, worker: OutboxWorker) -> str:
    """A Wiltshire reputation case (alerts to HR and comms), acknowledged, a question asked of
    the reporter, and resolved: messages in two channels, two threads and the reporter's DMs."""
    case = await cases.open(parse_report(report(kind="reputation")), REPORTER)
    await worker.run_once()
    for action, extra in (
        (Action.ACKNOWLEDGE, {}),
        (Action.ASK_REPORTER, {"text": "Which account posted it?"}),
        (Action.RESOLVE, {"outcome": Outcome.CONTENT_REMOVED}),
    ):
        result = await cases.act(case.reference, action, actor=Actor("slack", "UHR"), **extra)
        assert result.changed
        await worker.run_once()
    return case.reference


async def test_a_case_past_retention_loses_its_messages_then_its_rows(
    cases: Cases, store: Store, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    reference = await resolved_case(cases, clock, worker)
    posted = len(channel.posted)
    assert posted == 12  # 2 alerts and a receipt; 3 events, each in 2 threads and to the reporter

    clock.advance(days=29)
    early = await purge(cases, store, month, ["wiltshire"])
    assert early.started == [] and (await cases.get(reference)).reference == reference

    clock.advance(days=2)
    started = await purge(cases, store, month, ["wiltshire"])
    assert started.started == [reference] and started.finished == []
    refused = await cases.act(reference, Action.NOTE, actor=Actor("slack", "UHR"), text="x")
    assert not refused.changed and "being deleted" in refused.message

    await worker.run_once()  # the removals, then the case itself
    assert len(channel.removed) == posted
    assert {(address, direct) for address, _, direct in channel.removed} == {
        ("C0HR", False),
        ("C0COMMS", False),
        ("UREPORTER", True),
    }
    with pytest.raises(UnknownCaseError):
        await cases.get(reference)
    record = await cases.purged(reference)
    assert record is not None and record.messages_deleted == posted
    assert record.messages_tombstoned == record.messages_failed == 0
    assert await cases.outbox.counts() == {}
    assert len(channel.posted) == posted  # nothing new was posted about it


async def test_a_message_that_may_not_be_deleted_is_tombstoned(
    cases: Cases, store: Store, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    reference = await resolved_case(cases, clock, worker)
    channel.undeletable = {"m1", "m2"}
    clock.advance(days=31)
    await purge(cases, store, month, ["wiltshire"])
    await worker.run_once()
    record = await cases.purged(reference)
    assert record is not None and record.messages_tombstoned == 2


async def test_legal_hold_keeps_a_case_until_released(
    cases: Cases, store: Store, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    reference = await resolved_case(cases, clock, worker)
    held = await cases.set_legal_hold(
        reference, held=True, actor=Actor("admin", "DPO"), reason="tribunal"
    )
    assert held.changed and held.case is not None and held.case.legal_hold
    assert not (
        await cases.set_legal_hold(reference, held=True, actor=Actor("admin", "DPO"))
    ).changed
    clock.advance(days=400)
    kept = await purge(cases, store, month, ["wiltshire"])
    assert kept.held == [reference] and kept.started == []
    await worker.run_once()
    assert channel.removed == [] and (await cases.get(reference)).legal_hold

    await cases.set_legal_hold(reference, held=False, actor=Actor("admin", "DPO"))
    events = [event.kind for event in await cases.timeline(reference)]
    assert events[-2:] == ["legal_hold", "hold_released"]
    released = await purge(cases, store, month, ["wiltshire"])
    assert released.started == [reference]


async def test_open_cases_are_never_purged(cases: Cases, store: Store, clock: Clock) -> None:
    case = await cases.open(parse_report(report()), REPORTER)
    await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UHR"))
    clock.advance(days=3650)
    done = await purge(cases, store, month, ["wiltshire"])
    assert done.started == done.held == []
    assert (await cases.get(case.reference)).reference == case.reference


async def test_a_dry_run_says_what_would_go_and_changes_nothing(
    cases: Cases, store: Store, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    reference = await resolved_case(cases, clock, worker)
    clock.advance(days=31)
    dry = await purge(cases, store, month, ["wiltshire"], dry_run=True)
    assert dry.dry_run and dry.started == [reference]
    await worker.run_once()
    assert channel.removed == [] and await cases.purged(reference) is None


async def test_undelivered_messages_of_a_purged_case_are_never_sent(
    cases: Cases, store: Store, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    case = await cases.open(parse_report(report()), REPORTER)
    await cases.act(
        case.reference,
        Action.RESOLVE,
        actor=Actor("admin", "Jo"),
        outcome=Outcome.NO_FURTHER_ACTION,
    )
    # The platform was away the whole time: nothing went out.
    clock.advance(days=31)
    done = await purge(cases, store, month, ["wiltshire"])
    assert [record.reference for record in done.finished] == [case.reference]
    await worker.run_once()
    assert channel.posted == [] and channel.removed == []


async def test_a_case_with_a_delivery_in_flight_waits_for_the_next_purge(
    cases: Cases, store: Store, clock: Clock
) -> None:
    case = await cases.open(parse_report(report()), REPORTER)
    await cases.act(
        case.reference,
        Action.RESOLVE,
        actor=Actor("admin", "Jo"),
        outcome=Outcome.ADVICE_GIVEN,
    )
    clock.advance(days=31)
    assert await cases.outbox.claim()  # a worker is posting the alert this moment
    waiting = await purge(cases, store, month, ["wiltshire"])
    assert waiting.postponed == [case.reference] and waiting.started == []
    clock.advance(minutes=5)  # the lease has run out: that worker is gone
    later = await purge(cases, store, month, ["wiltshire"])
    assert later.started == [case.reference]


async def test_question_records_go_at_their_councils_age(
    cases: Cases, store: Store, clock: Clock
) -> None:
    asked = Asked(org="wiltshire", kind="answer", clause=None, score=0.9, asker="a1", channel="web")
    old = await store.record_asked(asked, at=clock.now - timedelta(days=100))
    await store.record_asked(asked, at=clock.now - timedelta(days=10))
    await store.record_asked(
        Asked(org="derbyshire", kind="answer", clause=None, score=0.9, asker="a1", channel="web"),
        at=clock.now - timedelta(days=100),
    )
    await store.flush()
    await store.record_feedback(old, helpful=True)
    await store.flush()

    def wiltshire_only(org: str) -> RetentionRule:
        return MONTH if org == "wiltshire" else RetentionRule(MONTH.cases, timedelta(days=365))

    orgs = ["wiltshire", "derbyshire"]
    dry = await purge(cases, store, wiltshire_only, orgs, dry_run=True)
    assert dry.questions_deleted == {"wiltshire": 1}
    assert len(await store.asked_by("a1")) == 3
    done = await purge(cases, store, wiltshire_only, orgs)
    assert done.questions_deleted == {"wiltshire": 1}
    assert sorted(record.org for record in await store.asked_by("a1")) == [
        "derbyshire",
        "wiltshire",
    ]


async def test_question_texts_are_forgotten_at_their_own_age(
    cases: Cases, store: Store, clock: Clock
) -> None:
    kept = Asked(
        org="wiltshire",
        kind="fallback",
        clause=None,
        score=0.1,
        asker="a1",
        channel="web",
        text="can I claim mileage?",
    )
    await store.record_asked(kept, at=clock.now - timedelta(days=91))
    await store.record_asked(kept, at=clock.now - timedelta(days=89))
    await store.flush()
    rule = RetentionRule(MONTH.cases, timedelta(days=365), question_text=timedelta(days=90))

    dry = await purge(cases, store, lambda org: rule, ["wiltshire"], dry_run=True)
    assert dry.texts_forgotten == {"wiltshire": 1}
    done = await purge(cases, store, lambda org: rule, ["wiltshire"])
    assert done.texts_forgotten == {"wiltshire": 1} and done.questions_deleted == {}
    records = await store.asked_by("a1")
    assert [record.text for record in records] == [None, "can I claim mileage?"]


async def test_everything_about_one_person_is_found(
    cases: Cases, store: Store, clock: Clock
) -> None:
    mine = await cases.open(parse_report(report()), REPORTER)
    web = await cases.open(
        parse_report(report(reporter={"name": "Sam Jones"})),
        Reporter(Actor("web", "abc")),
    )
    other = await cases.open(
        parse_report(report(reporter={"name": "Alex Smith"})),
        Reporter(Actor("slack", "UOTHER"), address="UOTHER"),
    )
    # Not on the team: refused, and the refusal is recorded about them.
    await cases.act(other.reference, Action.NOTE, actor=Actor("slack", "UREPORTER"), text="seen it")
    await cases.act(other.reference, Action.NOTE, actor=Actor("slack", "UHR"), text="thanks")

    found = await cases.involving(Actor("slack", "UREPORTER"), name="sam jones")
    assert [r.case.reference for r in found.reported] == [mine.reference, web.reference]
    assert [r.case.reference for r in found.acted_on] == [other.reference]
    # On someone else's case, only what this person did.
    assert [e.kind for e in found.acted_on[0].events] == ["refused"]
    assert {e.actor for e in found.acted_on[0].events} == {Actor("slack", "UREPORTER")}
    assert [(await cases.involving(Actor("slack", "UNOBODY"))).reported] == [[]]


async def test_claims_against_re_delivery_are_forgotten_after_a_day(
    cases: Cases, store: Store, clock: Clock
) -> None:
    """Security review L7: the table of claimed event ids only grew."""
    assert await store.claim_event("slack:EvOld")
    assert not await store.claim_event("slack:EvOld")  # a retry minutes later: answered once
    clock.now = datetime.now(UTC) + timedelta(hours=12)
    kept = await purge(cases, store, month, ["wiltshire"])
    assert kept.claims_deleted == 0 and not await store.claim_event("slack:EvOld")
    clock.now = datetime.now(UTC) + timedelta(days=2)
    dry = await purge(cases, store, month, ["wiltshire"], dry_run=True)
    assert dry.claims_deleted == 1 and not await store.claim_event("slack:EvOld")
    done = await purge(cases, store, month, ["wiltshire"])
    assert done.claims_deleted == 1
    assert await store.claim_event("slack:EvOld")  # forgotten


async def test_a_reporters_own_chat_is_kept_only_while_a_case_of_theirs_is(
    cases: Cases, store: Store
) -> None:
    """Security review L5: a Teams reporter's chat (their name and ids) was kept for ever."""
    for conversation, personal in (("a:mine", True), ("a:orphan", True), ("19:desk", False)):
        await store.save_conversation(
            platform="teams",
            conversation_id=conversation,
            org="wiltshire",
            reference=f'{{"conversation": {{"id": "{conversation}"}}}}',
            personal=personal,
        )
    reporter = Reporter(Actor("teams", "aad-1"), address="a:mine")
    await cases.open(parse_report(report()), reporter)
    assert await cases.forget_chats(dry_run=True) == 1
    assert await cases.forget_chats() == 1
    assert await store.conversation(platform="teams", conversation_id="a:orphan") is None
    assert await store.conversation(platform="teams", conversation_id="a:mine") is not None
    assert await store.conversation(platform="teams", conversation_id="19:desk") is not None
