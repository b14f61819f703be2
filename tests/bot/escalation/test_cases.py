"""Escalation cases on SQLite and PostgreSQL: routing by each council's rules, the outbox and
its worker, team-only actions, reminders on a fake clock, and nothing sent twice."""

from __future__ import annotations

import asyncio

import pytest

from bot.escalation.cases import MAX_REPORTS, Cases, TooManyReportsError
from bot.escalation.delivery import OutboxWorker
from bot.escalation.desks import Directory, NoDeskError
from bot.escalation.model import (
    Action,
    Actor,
    Delivery,
    Outcome,
    Purpose,
    Reporter,
    Status,
    UnknownCaseError,
)
from bot.escalation.report import ReportError, kind_of, parse_report
from bot.knowledge import IncidentKind, KnowledgeBase, Route
from bot.storage import Store
from tests.bot.escalation.case_fixtures import (
    REPORTER,
    Clock,
    RecordingChannel,
    directory,
    report,
)


@pytest.fixture
def cases(store: Store, knowledge: KnowledgeBase, clock: Clock) -> Cases:
    return Cases(store, knowledge.policies, directory(), clock=clock)


async def test_a_report_is_routed_by_the_councils_rules_and_alerted_once(
    cases: Cases, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    case = await cases.open(parse_report(report(kind="reputation")), REPORTER)
    # Wiltshire 23: damage to the council's reputation goes to HR and comms at once.
    assert case.routes == (Route.HR, Route.COMMS)
    assert case.clause == "manager-reputational-damage"
    assert case.reference.startswith("WIL-") and case.status is Status.OPEN
    assert await worker.run_once() == 3  # two alerts and the reporter's receipt
    assert await worker.run_once() == 0
    assert len(channel.to("C0HR", Purpose.ALERT)) == len(channel.to("C0COMMS", Purpose.ALERT)) == 1
    (receipt,) = channel.to("UREPORTER")
    assert case.reference in receipt and "HR" in receipt


async def test_a_replayed_report_opens_no_second_case(cases: Cases) -> None:
    first = await cases.open(parse_report(report()), REPORTER, dedupe="slack:view:V1")
    again = await cases.open(parse_report(report()), REPORTER, dedupe="slack:view:V1")
    assert again.reference == first.reference
    assert len(await cases.find(org="wiltshire")) == 1


async def test_the_same_submission_delivered_twice_at_once_opens_one_case(cases: Cases) -> None:
    """Security review L1: concurrent deliveries of one Slack submission all passed the replay
    check, then all but one failed on the dedupe key with a 500."""
    submitted = parse_report(report(kind="posted_by_mistake"))
    opened = await asyncio.gather(
        *(cases.open(submitted, REPORTER, dedupe="slack:report:V1") for _ in range(6))
    )
    assert len({case.reference for case in opened}) == 1
    assert len(await cases.find(org="wiltshire")) == 1


async def test_the_senior_route_is_used_when_the_line_manager_is_involved(cases: Cases) -> None:
    case = await cases.open(
        parse_report(report("west-dunbartonshire", kind="bullying", manager_involved=True)),
        REPORTER,
    )
    assert case.routes == (Route.SENIOR,)
    assert case.clause == "raise-concern-above-line-manager"  # West Dunbartonshire 9.6


async def test_acknowledgement_by_the_team_changes_state_and_tells_the_reporter(
    cases: Cases,
    clock: Clock,
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    case = await cases.open(
        parse_report(report("gloucestershire", kind="posted_by_mistake")), REPORTER
    )
    await worker.run_once()
    result = await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UCOMMS"))
    assert result.changed and result.case is not None
    assert result.case.status is Status.ACKNOWLEDGED
    await worker.run_once()
    # The change goes into the alert's thread, and to the reporter.
    ((_, thread, _, summary),) = [p for p in channel.posted if p[2] is Purpose.THREAD]
    alert_id = f"m{[p[2] for p in channel.posted].index(Purpose.ALERT) + 1}"
    assert thread == alert_id and "acknowledged" in summary
    assert any("picked up" in told for told in channel.to("UREPORTER"))
    again = await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UCOMMS"))
    assert not again.changed and "already" in again.message


async def test_an_outsiders_click_changes_nothing_and_is_audited(cases: Cases) -> None:
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    result = await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "USTRANGER"))
    assert not result.changed and "Only the team" in result.message
    assert (await cases.get(case.reference)).status is Status.OPEN
    kinds = [event.kind for event in await cases.timeline(case.reference)]
    assert kinds == ["reported", "refused"]
    # HR is not the team for a comms-only case either.
    assert not (
        await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UHR"))
    ).changed


async def test_replayed_and_double_actions_change_nothing(cases: Cases) -> None:
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    for expected in (True, False):  # the same submission, replayed
        noted = await cases.act(
            case.reference,
            Action.NOTE,
            actor=Actor("slack", "UCOMMS"),
            text="Called the reporter",
            dedupe="slack:action:1",
        )
        assert noted.changed is expected
    for expected in (True, False):  # a double click
        resolved = await cases.act(
            case.reference,
            Action.RESOLVE,
            actor=Actor("slack", "UCOMMS"),
            outcome=Outcome.CONTENT_REMOVED,
        )
        assert resolved.changed is expected
    events = [event.kind for event in await cases.timeline(case.reference)]
    assert events == ["reported", "note", "resolved"]
    final = await cases.get(case.reference)
    assert final.status is Status.RESOLVED and final.outcome is Outcome.CONTENT_REMOVED


async def test_asking_the_reporter_relays_the_question_and_their_answer(
    cases: Cases, clock: Clock
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    asked = await cases.act(
        case.reference,
        Action.ASK_REPORTER,
        actor=Actor("slack", "UCOMMS"),
        text="Is the post still up?",
    )
    assert asked.changed
    answered = await cases.act(
        case.reference,
        Action.REPORTER_ANSWER,
        actor=REPORTER.actor,
        text="Yes, still there",
    )
    assert answered.changed
    stranger = await cases.act(
        case.reference, Action.REPORTER_ANSWER, actor=Actor("slack", "UCOMMS"), text="I am not them"
    )
    assert not stranger.changed
    await worker.run_once()
    await worker.run_once()  # thread updates follow once their alert is out
    assert any("Is the post still up?" in told for told in channel.to("UREPORTER"))
    thread = channel.to("C0COMMS", Purpose.THREAD)
    assert any("Yes, still there" in line for line in thread)


async def test_reminders_fire_on_schedule_reach_the_backup_and_stop_on_acknowledgement(
    cases: Cases,
    clock: Clock,
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    await worker.run_once()
    clock.advance(minutes=14)
    await worker.run_once()
    assert channel.to("C0COMMS", Purpose.REMINDER) == []
    clock.advance(minutes=1)
    await worker.run_once()
    assert len(channel.to("C0COMMS", Purpose.REMINDER)) == 1
    assert channel.to("C0BACKUP") == []
    clock.advance(minutes=15)
    await worker.run_once()
    await worker.run_once()  # a second pass at the same moment sends nothing more
    assert len(channel.to("C0COMMS", Purpose.REMINDER)) == 2
    assert len(channel.to("C0BACKUP", Purpose.REMINDER)) == 1  # second reminder: backup too
    await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UCOMMS"))
    clock.advance(hours=5)
    await worker.run_once()
    assert len(channel.to("C0COMMS", Purpose.REMINDER)) == 2


async def test_a_failed_delivery_is_retried_with_backoff(cases: Cases, clock: Clock) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    channel.fail_next = 2
    assert await worker.run_once() == 0  # both deliveries failed
    assert await worker.run_once() == 0  # not due yet
    clock.advance(seconds=3)
    assert await worker.run_once() == 2
    assert (await cases.outbox.counts()) == {"sent": 2}


async def test_a_delivery_sent_just_before_a_crash_is_not_sent_again(
    cases: Cases, clock: Clock
) -> None:
    """The claim is taken and the message posted, but the process dies before recording it:
    after the lease the next worker finds the message on the platform instead of re-posting."""
    await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    posted: dict[str, str] = {}

    class Platform(RecordingChannel):
        async def send(self, delivery: Delivery) -> str:
            posted[delivery.id] = await super().send(delivery)
            return posted[delivery.id]

        async def already_sent(self, delivery: Delivery) -> str | None:
            return posted.get(delivery.id)

    platform = Platform()
    for delivery in await cases.outbox.claim():
        await platform.send(delivery)  # ... and the process is killed here
    clock.advance(minutes=3)  # the lease runs out
    assert await OutboxWorker(cases, {"slack": platform}).run_once() == 2
    assert len(platform.posted) == 2
    assert await cases.outbox.counts() == {"sent": 2}


async def test_a_worker_whose_lease_ran_out_cannot_undo_another_workers_delivery(
    cases: Cases,
    clock: Clock,
) -> None:
    """A slow worker's claim lapses, a second worker delivers the alert, then the slow one
    gives up on it: the alert stays sent."""
    await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    slow = await cases.outbox.claim()
    clock.advance(minutes=3)  # the slow worker's lease runs out
    assert await OutboxWorker(cases, {"slack": RecordingChannel()}).run_once() == 2
    for delivery in slow:
        await cases.outbox.failed(delivery, "Timeout", retry_at=None)
    assert await cases.outbox.counts() == {"sent": 2}


def test_reports_are_validated_naming_the_field() -> None:
    with pytest.raises(ReportError) as missing:
        parse_report({k: v for k, v in report().items() if k != "what"})
    assert missing.value.field == "what"
    with pytest.raises(ReportError) as bad_link:
        parse_report(report(evidence=["javascript:alert(1)"]))
    assert bad_link.value.field == "evidence"
    with pytest.raises(ReportError) as no_name:
        parse_report(report(reporter={"name": ""}))
    assert no_name.value.field == "reporter.name"
    with pytest.raises(ReportError) as extra:
        parse_report(report(colour="red"))
    assert extra.value.field == "colour"
    with pytest.raises(ReportError) as loose:  # a form's "yes" is not a JSON true
        parse_report(report(manager_involved="yes"))
    assert loose.value.field == "manager_involved"
    assert parse_report(report(manager_involved=True)).manager_involved


async def test_an_unknown_council_is_refused(cases: Cases) -> None:
    with pytest.raises(ReportError) as unknown:
        await cases.open(parse_report(report("atlantis")), REPORTER)
    assert unknown.value.field == "org"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("A colleague keeps posting nasty comments about me on Facebook", "bullying"),
        ("I posted on the council page from the wrong account", "posted_by_mistake"),
        ("Someone shared a service user's address in a public group", "confidential_leak"),
        ("A service user keeps sending me friend requests", "unwanted_contact"),
        ("A journalist picked up a staff member's post", "reputation"),
        ("The printer is broken", "other"),
    ],
)
def test_the_kind_is_read_from_the_report_when_the_form_did_not_ask(text: str, kind: str) -> None:
    assert kind_of(text) is IncidentKind(kind)


async def test_each_alert_is_redrawn_as_the_case_stands_and_never_with_an_older_state(
    cases: Cases,
    clock: Clock,
) -> None:
    channel = RecordingChannel()
    worker = OutboxWorker(cases, {"slack": channel})
    case = await cases.open(parse_report(report(kind="bullying")), REPORTER)
    await worker.run_once()
    await cases.act(case.reference, Action.NOTE, actor=Actor("slack", "UHR"), text="Rang them")
    await worker.run_once()
    assert channel.redrawn == []  # a note changes nothing the alert shows

    await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UHR"))
    await worker.run_once()
    (alert_id,) = {thread for thread, _ in channel.redrawn}
    assert channel.redrawn == [(alert_id, "acknowledged")]

    # Two changes at the same moment, delivered together: only the later state is drawn.
    await cases.act(case.reference, Action.ASSIGN, actor=Actor("slack", "UHR"))
    await cases.act(
        case.reference,
        Action.RESOLVE,
        actor=Actor("slack", "UHR"),
        outcome=Outcome.ADVICE_GIVEN,
    )
    await worker.run_once()
    assert channel.redrawn[1:] == [(alert_id, "resolved")]
    assert (await cases.outbox.counts()).get("superseded") == 1


@pytest.mark.parametrize("reference", ["WIL-\x00AAAA", "WIL-ABC", "", "x" * 500, "WIL-ABCDE1"])
async def test_what_cannot_be_a_reference_is_an_unknown_case(cases: Cases, reference: str) -> None:
    """Security review L1: a NUL in a reference was a 500 from PostgreSQL."""
    with pytest.raises(UnknownCaseError):
        await cases.get(reference)
    with pytest.raises(UnknownCaseError):
        await cases.set_legal_hold(reference, held=True, actor=Actor("admin", "Priya"))
    assert await cases.purged(reference) is None


async def test_a_report_no_desk_would_see_is_refused_and_nothing_is_kept(
    store: Store, knowledge: KnowledgeBase, clock: Clock
) -> None:
    desks = directory()
    comms_only = Directory({("gloucestershire", Route.COMMS): desks.desk("wiltshire", Route.COMMS)})
    cases = Cases(store, knowledge.policies, comms_only, clock=clock)
    # Gloucestershire sends bullying to HR, which has no desk here: refused, naming HR.
    with pytest.raises(NoDeskError) as refused:
        await cases.open(parse_report(report("gloucestershire", kind="bullying")), REPORTER)
    assert refused.value.contacts == (f"HR: {knowledge.policy('gloucestershire').contacts.hr}",)
    with pytest.raises(NoDeskError):
        await cases.open(parse_report(report("chelmsford")), REPORTER)
    assert await cases.find() == []
    assert await cases.outbox.counts() == {}
    # What its comms desk takes is accepted, and alerted.
    mistake = await cases.open(
        parse_report(report("gloucestershire", kind="posted_by_mistake")), REPORTER
    )
    assert mistake.routes == (Route.COMMS,)


async def test_one_person_filing_report_after_report_is_refused_for_a_while(
    cases: Cases, clock: Clock
) -> None:
    """Security review H5: each report alerts a team and reminds it until acknowledged."""
    for number in range(MAX_REPORTS):
        await cases.open(parse_report(report(what=f"Incident {number}")), REPORTER)
    with pytest.raises(TooManyReportsError) as refused:
        await cases.open(parse_report(report(what="One more")), REPORTER)
    assert refused.value.field == "report" and "contact them directly" in refused.value.message
    someone_else = Reporter(Actor("slack", "UOTHER"), address="UOTHER")
    await cases.open(parse_report(report(what="Another person's")), someone_else)
    clock.advance(minutes=61)
    await cases.open(parse_report(report(what="An hour on")), REPORTER)


async def test_cases_come_page_by_page_newest_first_none_left_out(
    cases: Cases, clock: Clock
) -> None:
    opened = []
    for number in range(7):
        reporter = Reporter(Actor("slack", f"U{number}"), address=f"U{number}")
        opened.append(await cases.open(parse_report(report(what=f"#{number}")), reporter))
        if number % 2:
            clock.advance(seconds=1)  # some share a time: the order still holds
    pages: list[list[str]] = []
    before = None
    while True:
        page = await cases.find(before=before, limit=3)
        pages.append([case.reference for case in page])
        if len(page) < 3:
            break
        before = page[-1].reference
    seen = [reference for page in pages for reference in page]
    assert sorted(seen) == sorted(case.reference for case in opened)
    assert len(seen) == len(set(seen)) and [len(page) for page in pages] == [3, 3, 1]
    with pytest.raises(UnknownCaseError):
        await cases.find(before="WIL-NOPE22")
