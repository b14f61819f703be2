"""The retry policy for Bot Connector calls: what is retried, and how long it waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from adapters.teams.connector import ConnectorRetry, is_transient, retry_after, with_retries


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class ConnectorError(Exception):
    """Shaped like msrest's HttpOperationError: the response rides on the exception."""

    def __init__(self, status: int, **headers: str) -> None:
        super().__init__(status)
        self.response = Response(status, headers)


async def test_retry_after_is_obeyed_and_capped_then_backoff_takes_over() -> None:
    errors = [
        ConnectorError(429, **{"Retry-After": "7"}),
        ConnectorError(429, **{"Retry-After": "600"}),
        ConnectorError(503),
    ]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def call() -> str:
        if errors:
            raise errors.pop(0)
        return "sent"

    policy = ConnectorRetry(attempts=4, first_wait=0.5, max_wait=30.0)
    assert await with_retries(call, policy, sleep=sleep) == "sent"
    assert waits[:2] == [7.0, 30.0]
    assert 0 < waits[2] <= 30.0


async def test_the_last_error_is_raised_when_attempts_run_out() -> None:
    calls = 0

    async def sleep(_: float) -> None:
        pass

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise ConnectorError(500)

    with pytest.raises(ConnectorError):
        await with_retries(call, ConnectorRetry(attempts=3), sleep=sleep)
    assert calls == 3


def test_what_counts_as_transient_and_how_retry_after_reads() -> None:
    assert is_transient(ConnectorError(429)) and is_transient(ConnectorError(502))
    assert not is_transient(ConnectorError(403)) and not is_transient(ValueError())
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    waited = retry_after(ConnectorError(429, **{"Retry-After": later}))
    assert waited is not None and 100 < waited <= 120
    assert retry_after(ConnectorError(429, **{"Retry-After": "soon"})) is None
    assert retry_after(ConnectorError(429)) is None
