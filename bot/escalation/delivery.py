"""The worker that drains the outbox (`outbox`): alerts, reminders, thread updates and reporter
notices.

At-least-once with a check: a delivery claimed before (its attempt count says so) may have gone
out just before a crash, so the channel is asked whether the message is already there before it
is sent again. The platform's message id is recorded before a row counts as sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from bot.escalation.cases import Cases
from bot.escalation.model import Delivery, Removal

log = logging.getLogger("policybot.delivery")
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(minutes=10)


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


def backoff(attempts: int) -> timedelta:
    """Exponential, with jitter so that replicas retrying together spread out."""
    seconds = FIRST_BACKOFF.total_seconds() * 2 ** (attempts - 1)
    capped = min(seconds, MAX_BACKOFF.total_seconds())
    return timedelta(seconds=capped * random.uniform(0.5, 1.0))


class OutboxWorker:
    def __init__(
        self,
        cases: Cases,
        channels: Mapping[str, Channel],
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self._cases = cases
        self._channels = channels
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
        if channel is None:
            await self._cases.outbox.failed(
                delivery, f"no {delivery.platform} connection configured", retry_at=None
            )
            log.error("outbox %s: no channel for platform %s", delivery.id, delivery.platform)
            return 0
        try:
            message_id = None
            if delivery.removes is not None:
                # Removing twice is harmless (already gone counts as deleted): no check first.
                message_id = (await channel.remove(delivery)).value
            elif delivery.attempts > 1:
                message_id = await channel.already_sent(delivery)
            if message_id is None:
                message_id = await channel.send(delivery)
        except Exception as exc:
            now = self._clock()
            give_up = delivery.attempts >= MAX_ATTEMPTS
            await self._cases.outbox.failed(
                delivery,
                type(exc).__name__,
                retry_at=None if give_up else now + backoff(delivery.attempts),
            )
            log.warning(
                "outbox %s: %s delivery failed (%s), attempt %d%s",
                delivery.id,
                delivery.platform,
                type(exc).__name__,
                delivery.attempts,
                "; giving up" if give_up else "",
            )
            return 0
        await self._cases.outbox.delivered(delivery, message_id)
        return 1

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
