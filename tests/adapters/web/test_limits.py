"""The per-address limit on web reports (security review H5: one client filed 5,756 cases in
20 seconds), against the real server, and the sliding window itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.limits import MAX_TRACKED, REPORTS_PER_ADDRESS, RateLimit
from tests.conftest import shipped_assistant


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides() -> None:
    clock = Ticking()
    limit = RateLimit(2, 60.0, clock=clock)
    assert limit.wait_for("a") is None and limit.wait_for("a") is None
    assert limit.wait_for("a") == 60.0
    assert limit.wait_for("b") is None  # each key has its own
    clock.now += 30
    assert limit.wait_for("a") == 30.0
    clock.now += 30
    assert limit.wait_for("a") is None


def test_a_flood_from_many_addresses_is_bounded_in_memory() -> None:
    limit = RateLimit(1, 60.0, clock=Ticking())
    for number in range(MAX_TRACKED + 50):
        limit.wait_for(f"10.0.{number // 256}.{number % 256}")
    assert len(limit._seen) == MAX_TRACKED


def report(number: int) -> dict[str, Any]:
    return {
        "org": "wiltshire",
        "what": f"Flood {number}",
        "reporter": {"name": "Anon"},
    }


@pytest.fixture
async def behind_a_proxy(
    tmp_path: Path, desks_by_email: dict[str, Any]
) -> AsyncIterator[TestServer]:
    """The server behind a reverse proxy on 127.0.0.1, as the tests connect from."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'limits.sqlite3'}",
        trusted_proxies=["127.0.0.1/32"],
        **desks_by_email,
    )
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant()))
    await server.start_server()
    yield server
    await server.close()


async def test_one_address_filing_report_after_report_is_told_to_wait(
    behind_a_proxy: TestServer,
) -> None:
    url = behind_a_proxy.make_url("/api/escalations")
    flooder = {"X-Forwarded-For": "203.0.113.9"}
    async with ClientSession() as http:
        for number in range(REPORTS_PER_ADDRESS):
            async with http.post(url, json=report(number), headers=flooder) as filed:
                assert filed.status == 201
        async with http.post(url, json=report(99), headers=flooder) as refused:
            assert refused.status == 429
            assert 1 <= int(refused.headers["Retry-After"]) <= 600
            assert "Too many reports" in (await refused.json())["error"]
        # Someone else behind the same proxy is not held up; nor is a forged address in front
        # of the flooder's own (only the last untrusted address counts).
        other = {"X-Forwarded-For": "198.51.100.7"}
        async with http.post(url, json=report(100), headers=other) as filed:
            assert filed.status == 201
        forged = {"X-Forwarded-For": "198.51.100.8, 203.0.113.9"}
        async with http.post(url, json=report(101), headers=forged) as refused:
            assert refused.status == 429
