"""Calls to the Bot Connector that survive throttling: 429 and 5xx are retried with backoff,
waiting as long as `Retry-After` asks (Teams throttles bots per conversation and per tenant).

The SDK's connector client sends once and raises; the retry wraps each activity on its own, so a
failure part-way through a batch never re-sends what already went out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ResourceResponse
from msrest.exceptions import ClientRequestError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

log = logging.getLogger("policybot.teams")


@dataclass(frozen=True)
class ConnectorRetry:
    attempts: int = 4
    first_wait: float = 0.5
    max_wait: float = 30.0


def status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status", None) or getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(error: BaseException) -> bool:
    """Throttled, a server error, or the connection failed: worth another try."""
    if isinstance(error, ClientRequestError):
        return True
    status = status_of(error)
    return status is not None and (status == 429 or status >= 500)


def retry_after(error: BaseException) -> float | None:
    """Seconds the connector asked us to wait, from `Retry-After` (seconds or an HTTP date)."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class _WaitRetryAfterOrBackoff:
    def __init__(self, policy: ConnectorRetry) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=policy.first_wait, max=policy.max_wait, jitter=policy.first_wait
        )
        self._max = policy.max_wait

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after(error) if error else None
        return min(asked, self._max) if asked is not None else float(self._backoff(state))


async def with_retries(
    call: Callable[[], Awaitable[Any]],
    policy: ConnectorRetry,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Any:
    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "Bot Connector call failed (%s); retry %d of %d",
            status_of(error) if error else None,
            state.attempt_number,
            policy.attempts - 1,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=_WaitRetryAfterOrBackoff(policy),
        stop=stop_after_attempt(policy.attempts),
        sleep=sleep,
        before_sleep=note,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity re-raises the last error")


class RetryingCloudAdapter(CloudAdapter):  # type: ignore[misc]
    def __init__(self, authentication: Any, policy: ConnectorRetry) -> None:
        super().__init__(authentication)
        self._policy = policy

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        send_batch = super().send_activities
        sent: list[ResourceResponse] = []
        for activity in activities:
            sent.extend(await with_retries(partial(send_batch, context, [activity]), self._policy))
        return sent

    async def update_activity(self, context: TurnContext, activity: Activity) -> Any:
        update = super().update_activity
        return await with_retries(lambda: update(context, activity), self._policy)

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        remove = super().delete_activity
        await with_retries(lambda: remove(context, reference), self._policy)
