"""`POST /api/escalations`: a report from the web form becomes one case routed by the council's
rules; bad reports get a 400 naming the field, and nothing is stored for them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.app import SERVICES
from bot.cases import Status
from bot.knowledge import default_root


def report(**changes: Any) -> dict[str, Any]:
    return {
        "org": "wiltshire",
        "what": "A post by a colleague could damage the council's reputation",
        "where": "Facebook group for the town",
        "when": "Yesterday evening",
        "involved": "A colleague",
        "evidence": ["https://social.example/post/1"],
        "reporter": {"name": "Sam", "job_title": "Officer", "area": "Housing", "phone": "0123"},
        "manager_involved": False,
        **changes,
    }


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
    test_server = TestServer(
        build_app(settings=settings, knowledge_root=default_root()), host="127.0.0.1"
    )
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def test_a_web_report_opens_one_case_routed_by_the_council(server: TestServer) -> None:
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=report()) as response,
    ):
        assert response.status == 201
        body = await response.json()
    assert body["status"] == "open" and body["route"] == ["hr", "comms"]  # Wiltshire 23
    assert body["reference"].startswith("WIL-")
    assert server.app is not None
    cases = server.app[SERVICES].cases
    (case,) = await cases.find(org="wiltshire")
    assert case.reference == body["reference"] and case.status is Status.OPEN
    assert case.report.reporter.name == "Sam"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (report(what=""), "what"),
        (report(org="atlantis"), "org"),
        (report(evidence=["not a link"]), "evidence"),
        (report(reporter={"job_title": "Officer"}), "reporter.name"),
        (report(manager_involved="perhaps"), "manager_involved"),
        (report(what="x" * 5000), "what"),
    ],
)
async def test_a_bad_report_gets_a_400_naming_the_field(
    server: TestServer, body: dict[str, Any], field: str
) -> None:
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=body) as response,
    ):
        assert response.status == 400
        error = await response.json()
    assert error["field"] == field and field in error["error"]
    assert server.app is not None
    assert await server.app[SERVICES].cases.find() == []


async def test_malformed_json_is_refused(server: TestServer) -> None:
    async with (
        ClientSession() as http,
        http.post(
            server.make_url("/api/escalations"),
            data=b"\xff{not json",
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 400
