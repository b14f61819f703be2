"""The outbox worker through outages (security review H2: a four-minute Slack outage killed
every alert in flight): fast retries, then slow ones for as long as the case is open, never
sooner than the platform asks, and the desk's backup when the alert will not go."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from bot.escalation.cases import Cases
from bot.escalation.delivery import OutboxWorker, Result, RetryLater, RetrySchedule
from bot.escalation.model import (
    Action,
    Actor,
    Delivery,
    OutboxState,
    Outcome,
    Purpose,
    unreached,
)
from bot.escalation.report import parse_report
from bot.knowledge import KnowledgeBase, Route
from bot.storage import Store
from tests.bot.escalation.case_fixtures import (
    REPORTER,
    START,
    Clock,
    RecordingChannel,
    directory,
    report,
)

SCHEDULE = RetrySchedule()  # the one the server uses unless its settings say otherwise
FAST_ATTEMPTS = SCHEDULE.fast_attempts
SLOW_RETRY = SCHEDULE.slow_every


class Outage(RecordingChannel):
    """The platform answers every post with an error until `back_at` (for the addresses in
    `down`, or all of them), then works; it may ask to be left alone (`retry_after`)."""

    def __init__(self, clock: Clock, *, back_at: timedelta, down: set[str] | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.back_at = START + back_at
        self.down = down
        self.retry_after: float | None = None
        # Where, what, and when (since START).
        self.refused: list[tuple[str, Purpose, timedelta]] = []

    async def send(self, delivery: Delivery) -> str:
        if self.clock.now < self.back_at and (self.down is None or delivery.address in self.down):
            self.refused.append((delivery.address, delivery.notice.purpose, self.clock.now - START))
            if self.retry_after is not None:
                raise RetryLater(self.retry_after)
            raise ConnectionError("HTTP 500")
        return await super().send(delivery)


@pytest.fixture
def cases(store: Store, knowledge: KnowledgeBase, clock: Clock) -> Cases:
    return Cases(store, knowledge.policies, directory(), clock=clock)


async def run_for(worker: OutboxWorker, clock: Clock, *, minutes: float, step: float = 5) -> None:
    """The worker's passes over `minutes` of the fake clock, one every `step` seconds."""
    for _ in range(int(minutes * 60 / step)):
        await worker.run_once()
        clock.advance(seconds=step)


async def test_every_alert_is_delivered_once_after_a_five_minute_outage(
    cases: Cases, clock: Clock
) -> None:
    slack = Outage(clock, back_at=timedelta(minutes=5))
    results: list[Result] = []
    worker = OutboxWorker(cases, {"slack": slack}, on_result=lambda _, r: results.append(r))
    opened = [
        await cases.open(parse_report(report(org, kind="reputation")), REPORTER)
        for org in ("wiltshire", "derbyshire", "gloucestershire")
    ]
    await run_for(worker, clock, minutes=30)
    assert Result.GAVE_UP not in results and Result.FAILED in results
    assert await cases.outbox.counts() == {"sent": len(slack.posted)}
    for case in opened:
        alerted = [
            where
            for where, _, purpose, summary in slack.posted
            if case.reference in summary and purpose is Purpose.ALERT
        ]
        assert len(alerted) == len(set(alerted))  # once each
        # Every desk's channel; a backup as well where the fast retries ran out first.
        desks = {f"C0{route.value.upper()}" for route in case.routes}
        assert desks <= set(alerted) <= desks | {"C0BACKUP"}


async def test_an_alert_is_never_given_up_while_its_case_is_open(
    cases: Cases, clock: Clock
) -> None:
    slack = Outage(clock, back_at=timedelta(hours=6), down={"C0COMMS"})
    worker = OutboxWorker(cases, {"slack": slack})
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    await run_for(worker, clock, minutes=7 * 60, step=60)
    tries = [at for where, purpose, at in slack.refused if purpose is Purpose.ALERT]
    fast, slow = tries[:FAST_ATTEMPTS], tries[FAST_ATTEMPTS:]
    # A blip is retried within minutes: the fast waits add up to at most 254 s, but this clock
    # moves a minute a step, so each wait is seen up to a step late (10 minutes seen once).
    assert fast[-1] <= timedelta(minutes=11)
    gaps = [later - earlier for earlier, later in pairwise(slow)]
    assert gaps and all(SLOW_RETRY <= gap <= SLOW_RETRY + timedelta(seconds=60) for gap in gaps)
    # Back after six hours: the alert arrives, once, and nothing was given up.
    assert len(slack.to("C0COMMS", Purpose.ALERT)) == 1
    assert "dead" not in await cases.outbox.counts()
    assert case.reference in slack.to("C0COMMS", Purpose.ALERT)[0]


async def test_a_platform_that_asks_to_wait_is_not_tried_sooner(cases: Cases, clock: Clock) -> None:
    slack = Outage(clock, back_at=timedelta(minutes=30))
    slack.retry_after = 600.0
    worker = OutboxWorker(cases, {"slack": slack})
    await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    await run_for(worker, clock, minutes=40)
    tries = [at for where, purpose, at in slack.refused if purpose is Purpose.ALERT]
    assert len(tries) == 3  # at 0, 10 and 20 minutes
    assert all(later - earlier >= timedelta(minutes=10) for earlier, later in pairwise(tries))
    assert len(slack.to("C0COMMS", Purpose.ALERT)) == 1


async def test_an_alert_that_will_not_go_falls_over_to_the_desks_backup(
    cases: Cases, clock: Clock
) -> None:
    slack = Outage(clock, back_at=timedelta(hours=2), down={"C0COMMS"})
    worker = OutboxWorker(cases, {"slack": slack})
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    await run_for(worker, clock, minutes=15)
    (backup,) = slack.to("C0BACKUP", Purpose.ALERT)
    assert case.reference in backup
    # The team acts from the backup's alert; the update reaches it, and, once the channel is
    # back, the first alert and its thread too.
    await cases.act(case.reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UCOMMS"))
    await run_for(worker, clock, minutes=1)
    assert [where for where, thread, purpose, _ in slack.posted if purpose is Purpose.THREAD] == [
        "C0BACKUP"
    ]
    await run_for(worker, clock, minutes=120, step=60)
    assert len(slack.to("C0COMMS", Purpose.ALERT)) == 1
    assert len(slack.to("C0BACKUP", Purpose.ALERT)) == 1
    assert sorted(w for w, _, p, _ in slack.posted if p is Purpose.THREAD) == [
        "C0BACKUP",
        "C0COMMS",
    ]


async def test_a_resolved_cases_notice_is_given_up_a_day_after_it_was_queued(
    cases: Cases, clock: Clock
) -> None:
    slack = Outage(clock, back_at=timedelta(days=3), down={"UREPORTER"})
    results: list[Result] = []
    worker = OutboxWorker(cases, {"slack": slack}, on_result=lambda _, r: results.append(r))
    case = await cases.open(parse_report(report(kind="posted_by_mistake")), REPORTER)
    await cases.act(
        case.reference,
        Action.RESOLVE,
        actor=Actor("slack", "UCOMMS"),
        outcome=Outcome.ADVICE_GIVEN,
    )
    await run_for(worker, clock, minutes=23 * 60, step=300)
    assert Result.GAVE_UP not in results
    await run_for(worker, clock, minutes=2 * 60, step=300)
    assert results.count(Result.GAVE_UP) == 2  # the receipt and the resolution, to the reporter
    assert (await cases.outbox.counts())["dead"] == 2


def test_the_schedule_is_fast_then_slow_and_never_sooner_than_asked() -> None:
    def delivery(
        attempts: int, *, case_open: bool = True, age: timedelta = timedelta(0)
    ) -> Delivery:
        return Delivery(
            id="d1",
            platform="slack",
            address="C1",
            notice=None,  # type: ignore[arg-type]  # the schedule never reads it
            attempts=attempts,
            queued_at=START - age,
            case_open=case_open,
        )

    first = SCHEDULE.next_attempt(delivery(1), now=START)
    assert first is not None and timedelta(seconds=1) <= first - START <= timedelta(seconds=2)
    assert SCHEDULE.next_attempt(delivery(FAST_ATTEMPTS), now=START) == START + SLOW_RETRY
    asked = SCHEDULE.next_attempt(delivery(1), now=START, asked=timedelta(minutes=20))
    assert asked == START + timedelta(minutes=20)
    old = SCHEDULE.resolved_case_keeps_trying + timedelta(seconds=1)
    assert SCHEDULE.next_attempt(delivery(FAST_ATTEMPTS, age=old), now=START) == START + SLOW_RETRY
    assert (
        SCHEDULE.next_attempt(delivery(FAST_ATTEMPTS, case_open=False, age=old), now=START) is None
    )
    assert SCHEDULE.next_attempt(delivery(3, case_open=False, age=old), now=START) is not None


async def test_a_desk_that_cannot_be_reached_shows_on_its_case_and_in_the_pipeline(
    cases: Cases, clock: Clock
) -> None:
    slack = Outage(clock, back_at=timedelta(hours=1), down={"C0HR", "C0BACKUP"})
    worker = OutboxWorker(cases, {"slack": slack})
    case = await cases.open(parse_report(report(kind="reputation")), REPORTER)  # HR and comms
    await run_for(worker, clock, minutes=20)
    alerts = (await cases.alerts([case.id]))[case.id]
    assert unreached(alerts) == (Route.HR,)
    hr = next(alert for alert in alerts if alert.address == "C0HR")
    assert hr.failing and hr.attempts > FAST_ATTEMPTS and hr.error == "ConnectionError"
    state = await cases.pipeline()
    # Nobody acknowledged within comms' 15 minutes; HR's alert and reminders keep failing.
    assert state.overdue == {"wiltshire": 1}
    assert state.failing[("wiltshire", Route.HR)] >= 1
    assert OutboxState.PENDING in state.outbox and OutboxState.DEAD not in state.outbox
    assert state.oldest_undelivered == timedelta(minutes=20)
    await run_for(worker, clock, minutes=50)  # the channel is back
    assert unreached((await cases.alerts([case.id]))[case.id]) == ()
    assert (await cases.pipeline()).failing == {}
