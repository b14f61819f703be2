"""The worker that drains the outbox (`outbox`): alerts, reminders, thread updates and reporter
notices.

At-least-once with a check: a delivery claimed before (its attempt count says so) may have gone
out just before a crash, so the channel is asked whether the message is already there before it
is sent again. The platform's message id is recorded before a row counts as sent.

Outlasting outages (security review H2: a four-minute Slack outage used to kill every alert in
flight): a failed delivery is retried fast for a few minutes, then slowly for as long as its
case is open (`RetrySchedule`), never sooner than the platform's `Retry-After`. An alert that
is still failing when the fast retries run out falls over to its desk's backup destinations as
well. Only a delivery for a resolved case is ever given up, a day after it was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.escalation.cases import Cases
from bot.escalation.model import Delivery, Purpose, Removal

log = logging.getLogger("policybot.delivery")


class RetryLater(Exception):
    """Raised by a channel when the platform asked to be left alone for `seconds` (HTTP 429
    with `Retry-After`): the delivery is not tried again sooner."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"asked to wait {seconds:.0f} s")
        self.seconds = seconds


class Result(enum.StrEnum):
    """How one attempt at a delivery went, as the worker reports it (`on_result`)."""

    SENT = "sent"
    FAILED = "failed"  # tried again later
    GAVE_UP = "gave_up"


class NoChannel(Exception):
    """The server has no connection to the delivery's platform (a desk set up for Slack on a
    server started without it): retried like an outage, since a restart with it may follow."""


class Channel(Protocol):
    """One platform's way of posting. Adapters implement it; tests fake the platform behind it,
    never the channel."""

    async def send(self, delivery: Delivery) -> str:
        """Post the notice; returns the platform's id for the message. Raises on failure."""
        ...

    async def already_sent(self, delivery: Delivery) -> str | None:
        """The id of this delivery's message if the platform already has it, else None."""
        ...

    async def remove(self, delivery: Delivery) -> Removal:
        """Delete the message `delivery.removes` (posted to `delivery.address`, under
        `delivery.thread` if it was a reply); where the platform refuses, replace its content
        with `delivery.notice.summary`. A message already gone counts as deleted. Raises on
        failures worth retrying."""
        ...


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """How a failed delivery is tried again. By default 8 fast attempts, 2 seconds doubling
    (about 2 to 4 minutes: a blip is over by then, an outage is not), then every 5 minutes
    while the case is open; a notice about a resolved case stops mattering after a day."""

    first_wait: timedelta = timedelta(seconds=2)
    fast_attempts: int = 8
    max_wait: timedelta = timedelta(minutes=10)
    slow_every: timedelta = timedelta(minutes=5)
    resolved_case_keeps_trying: timedelta = timedelta(days=1)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential, with jitter so that replicas retrying together spread out."""
        seconds = self.first_wait.total_seconds() * 2 ** (attempts - 1)
        capped = min(seconds, self.max_wait.total_seconds())
        return timedelta(seconds=capped * random.uniform(0.5, 1.0))

    def next_attempt(
        self, delivery: Delivery, *, now: datetime, asked: timedelta | None = None
    ) -> datetime | None:
        """When to try a failed delivery again (never before the platform `asked`), or None
        to give it up: only a delivery for a resolved case, once it is old enough."""
        if delivery.attempts < self.fast_attempts:
            wait = self.backoff(delivery.attempts)
        elif (
            delivery.case_open
            or now - (delivery.queued_at or now) < self.resolved_case_keeps_trying
        ):
            wait = self.slow_every
        else:
            return None
        return now + max(wait, asked or timedelta(0))


class OutboxWorker:
    def __init__(
        self,
        cases: Cases,
        channels: Mapping[str, Channel],
        *,
        poll_seconds: float = 1.0,
        on_result: Callable[[Delivery, Result], None] | None = None,
        schedule: RetrySchedule = RetrySchedule(),
    ) -> None:
        self._cases = cases
        self._schedule = schedule
        self._channels = channels
        self._on_result = on_result or (lambda delivery, result: None)
        self._clock = cases.clock
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Queue due reminders, then deliver what is due; returns how many were delivered."""
        await self._cases.queue_due_reminders()
        sent = 0
        removals = False
        for delivery in await self._cases.outbox.claim():
            sent += await self._deliver(delivery)
            removals = removals or delivery.removes is not None
        if removals:  # a purged case whose messages are all gone can go now
            await self._cases.finish_purges()
        return sent

    async def _deliver(self, delivery: Delivery) -> int:
        channel = self._channels.get(delivery.platform)
        try:
            if channel is None:
                raise NoChannel(f"no {delivery.platform} connection configured")
            message_id = None
            if delivery.removes is not None:
                # Removing twice is harmless (already gone counts as deleted): no check first.
                message_id = (await channel.remove(delivery)).value
            elif delivery.attempts > 1:
                message_id = await channel.already_sent(delivery)
            if message_id is None:
                message_id = await channel.send(delivery)
        except Exception as exc:
            await self._failed(delivery, exc)
            return 0
        await self._cases.outbox.delivered(delivery, message_id)
        self._on_result(delivery, Result.SENT)
        return 1

    async def _failed(self, delivery: Delivery, error: Exception) -> None:
        asked = timedelta(seconds=error.seconds) if isinstance(error, RetryLater) else None
        retry_at = self._schedule.next_attempt(delivery, now=self._clock(), asked=asked)
        await self._cases.outbox.failed(delivery, type(error).__name__, retry_at=retry_at)
        result = Result.FAILED if retry_at is not None else Result.GAVE_UP
        self._on_result(delivery, result)
        log.warning(
            "outbox %s: %s delivery failed (%s), attempt %d; %s",
            delivery.id,
            delivery.platform,
            type(error).__name__,
            delivery.attempts,
            "giving up" if retry_at is None else f"next at {retry_at:%H:%M:%S}",
        )
        falls_over = (
            delivery.attempts == self._schedule.fast_attempts
            and delivery.notice.purpose is Purpose.ALERT
        )
        if falls_over and await self._cases.fall_over(delivery):
            log.warning("outbox %s: alert falls over to its desk's backup", delivery.id)
            self.wake()

    def stop(self) -> None:
        """Finish the pass under way, then return from `run_forever`: cancelling it mid-pass
        would leave a database connection in use as the server closes them."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                sent = await self.run_once()
            except Exception:  # the database is away: try again at the next poll
                log.exception("outbox worker pass failed")
                sent = 0
            if sent and not self._stopping:
                continue  # there may be more behind what was claimed
            self._wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
