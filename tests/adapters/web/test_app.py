"""The server's API, errors, health and metrics, over HTTP against a real server on a free port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.http import SERVICES
from bot.storage import opaque_asker
from tests.conftest import free_port, shipped_assistant


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
    app = build_app(settings=settings, assistant=shipped_assistant())
    test_server = TestServer(app, host="127.0.0.1")  # binds a free port
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest.fixture
async def http(server: TestServer) -> AsyncIterator[ClientSession]:
    async with ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session


async def test_ask_returns_the_same_object_as_the_cli(http: ClientSession) -> None:
    async with http.post(
        "/api/ask", json={"org": "derbyshire", "question": "can I friend a service user"}
    ) as r:
        assert r.status == 200
        body = await r.json()
    assert {"org", "question", "kind", "answer", "route", "matches", "id"} <= set(body)
    assert body["kind"] == "answer"
    assert "friend" in body["matches"][0]["quote"]
    assert len(body["matches"]) >= 3
    # The question the answer's verdict answers travels with it, for the page to show.
    assert body["asks"] and body["asks"] == body["matches"][0]["asks"]
    assert all(m["label"] for m in body["matches"])


async def test_feedback_is_stored_against_the_question(
    http: ClientSession, server: TestServer
) -> None:
    async with http.post(
        "/api/ask", json={"org": "wiltshire", "question": "can I use facebook on my break"}
    ) as r:
        asked = await r.json()
    async with http.post("/api/feedback", json={"id": asked["id"], "helpful": False}) as r:
        assert r.status == 200
        assert await r.json() == {"ok": True}
    assert server.app is not None
    store = server.app[SERVICES].store
    await store.flush()
    assert await store.feedback_for(asked["id"]) == [False]
    assert (await store.count_by_kind("wiltshire"))[asked["kind"]] == 1
    # Sent without an asker id: stored as the anonymous web asker, never under the address;
    # and with no salt in the settings, under one the deployment made, not a known constant.
    salt = await store.asker_salt(None)
    assert len(salt) >= 32 and salt == await store.kept_secret("asker_salt")
    assert await store.asked_by(opaque_asker("web", salt="policybot")) == []
    assert await store.asked_by(opaque_asker("127.0.0.1", salt=salt)) == []
    assert [r.id for r in await store.asked_by(opaque_asker("web", salt=salt))] == [asked["id"]]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe\x00", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"[" * 10_000 + b"]" * 10_000, 400, "not valid JSON"),  # nested too deep for Python
        (b'{"org": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),  # too many digits
        (b"{}", 400, "missing field 'org'"),
        (b'{"org": "derbyshire"}', 400, "missing field 'question'"),
        (b'{"org": 5, "question": "x"}', 400, "'org' must be a str"),
        (b'{"org": "narnia", "question": "can I post?"}', 400, "unknown council 'narnia'"),
        (b'{"org": "derbyshire", "question": "   "}', 400, "empty"),
        (json.dumps({"org": "derbyshire", "question": "x" * 4001}).encode(), 400, "too long"),
        (b'{"org": "derbyshire", "question": "a\\u0000b"}', 400, "binary"),
        (
            json.dumps({"org": "derbyshire", "question": "x" * 70_000}).encode(),
            413,
            "over 65536 bytes",
        ),
    ],
)
async def test_bad_requests_get_a_json_error_never_a_500(
    http: ClientSession, body: bytes, status: int, message: str
) -> None:
    async with http.post("/api/ask", data=body, headers={"Content-Type": "application/json"}) as r:
        assert r.status == status
        assert message in (await r.json())["error"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"id": "f" * 32, "helpful": True}, 404),
        ({"id": 1, "helpful": True}, 400),
        ({"id": "1"}, 400),
    ],
)
async def test_bad_feedback(http: ClientSession, body: dict[str, object], status: int) -> None:
    async with http.post("/api/feedback", json=body) as r:
        assert r.status == status
        assert "error" in await r.json()


async def test_health_readiness_and_metrics(http: ClientSession) -> None:
    async with http.get("/healthz") as r:
        assert r.status == 200
    async with http.get("/readyz") as r:
        assert r.status == 200
        assert (await r.json())["checks"] == {
            "knowledge": True,
            "database": True,
            "database_writes": True,
        }
    await http.post(
        "/api/ask", json={"org": "chelmsford", "question": "how do I book annual leave"}
    )
    await http.post("/api/ask", data=b"{oops", headers={"Content-Type": "application/json"})
    async with http.get("/metrics") as r:
        text = await r.text()
    assert 'policybot_questions_total{kind="fallback",org="chelmsford",platform="web"} 1.0' in text
    assert "policybot_ask_seconds_bucket" in text
    assert 'policybot_errors_total{reason="bad_json"} 1.0' in text


async def test_readyz_fails_when_the_database_is_unreachable() -> None:
    # A PostgreSQL server that is down (nothing listens on the port).
    settings = Settings(database_url=f"postgresql+asyncpg://policybot@127.0.0.1:{free_port()}/x")
    app = build_app(settings=settings, assistant=shipped_assistant())
    app.on_startup.clear()  # the tables cannot be made either
    async with (
        TestServer(app, host="127.0.0.1") as server,
        ClientSession() as http,
        http.get(server.make_url("/readyz")) as r,
    ):
        assert r.status == 503
        assert (await r.json())["checks"]["database"] is False


async def test_page_and_static_files_are_served(http: ClientSession) -> None:
    async with http.get("/") as r:
        assert r.status == 200
        page = await r.text()
    assert '<label for="question">' in page and "/static/app.js" in page
    for name in ("app.js", "style.css"):
        async with http.get(f"/static/{name}") as r:
            assert r.status == 200
    async with http.get("/api/orgs") as r:
        orgs = await r.json()
    assert [o["org"] for o in orgs["orgs"]][:2] == ["chelmsford", "derbyshire"]


async def test_unknown_paths_are_json_404(http: ClientSession) -> None:
    async with http.get("/nowhere") as r:
        assert r.status == 404
        assert "error" in await r.json()


def test_app_is_built_without_running(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    assert isinstance(build_app(settings=settings, assistant=shipped_assistant()), web.Application)


async def test_logs_never_carry_the_question_or_the_asker(
    http: ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    secret_question = "can I post about Mrs Jones at 12 Acacia Avenue on facebook"
    async with http.post(
        "/api/ask", json={"org": "derbyshire", "question": secret_question, "asker": "jo@x.gov.uk"}
    ) as r:
        assert r.status == 200
    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert "answered" in logged
    assert "Acacia" not in logged and "jo@x.gov.uk" not in logged


async def test_readyz_fails_while_the_database_refuses_writes(
    http: ClientSession, server: TestServer
) -> None:
    assert server.app is not None
    store = server.app[SERVICES].store
    async with store.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE asked RENAME TO asked_away"))
    async with http.post("/api/ask", json={"org": "wiltshire", "question": "can I tweet?"}) as r:
        assert r.status == 200  # answered all the same
    for _ in range(100):
        async with http.get("/readyz") as r:
            if r.status == 503:
                checks = (await r.json())["checks"]
                break
        await asyncio.sleep(0.02)
    assert checks == {"knowledge": True, "database": True, "database_writes": False}
    async with store.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE asked_away RENAME TO asked"))
    await store.flush()
    async with http.get("/readyz") as r:
        assert r.status == 200


async def test_every_page_and_file_is_sent_with_the_security_headers(http: ClientSession) -> None:
    """Security review L7: only the admin page had them."""
    for path in ("/", "/static/app.js", "/api/orgs", "/escalations", "/nowhere"):
        async with http.get(path) as r:
            assert r.headers["Content-Security-Policy"].startswith("default-src 'self'"), path
            assert r.headers["X-Frame-Options"] == "DENY"
            assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain;charset=UTF-8"}, 415),  # a "simple" cross-site form post
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),  # a sandboxed frame
        ({"Content-Type": "application/json"}, 200),  # not a browser: no origin to forge
    ],
    ids=["text-plain", "other-site", "null-origin", "no-origin"],
)
async def test_json_endpoints_take_only_json_from_this_site(
    http: ClientSession, headers: dict[str, str], status: int
) -> None:
    """Security review H5: a `text/plain` POST from any page filed reports and asked questions."""
    body = b'{"org": "derbyshire", "question": "can I friend a service user?"}'
    async with http.post("/api/ask", data=body, headers=headers) as response:
        assert response.status == status
        if status != 200:
            assert (await response.json())["error"]


async def test_a_page_of_this_site_may_post(http: ClientSession, server: TestServer) -> None:
    own = f"http://{server.host}:{server.port}"
    question = {"org": "derbyshire", "question": "can I friend a service user?"}
    async with http.post("/api/ask", json=question, headers={"Origin": own}) as response:
        assert response.status == 200


async def test_the_comparison_of_a_topic_is_public(http: ClientSession) -> None:
    async with http.get("/api/topics") as r:
        topics = (await r.json())["topics"]
    assert len(topics) >= 30
    async with http.get("/api/compare/friend-requests-from-service-users") as r:
        assert r.status == 200
        shown = await r.json()
    assert len(shown["councils"]) >= 3 and shown["councils"][0]["clauses"][0]["quote"]
    async with http.get("/api/compare/no-such-topic") as r:
        assert r.status == 404 and "no topic" in (await r.json())["error"]
    async with http.get("/compare") as page:
        assert page.status == 200 and "compare.js" in await page.text()


async def test_other_councils_after_an_answer_links_to_its_comparison(http: ClientSession) -> None:
    question = {"org": "derbyshire", "question": "can I accept a friend request from a client"}
    async with http.post("/api/ask", json=question) as r:
        answered = await r.json()
    assert answered["kind"] == "answer"
    assert answered["compare"]["path"].startswith("/compare?topic=")
    clause = answered["matches"][0]["clause"]
    follow_up = {
        "org": "derbyshire",
        "question": "how do other councils handle this?",
        "follows": clause,
    }
    async with http.post("/api/ask", json=follow_up) as r:
        compared = await r.json()
    assert compared["kind"] == "answer" and compared["matches"][0]["clause"] == clause
    assert compared["compare"] == answered["compare"]
    unknown = {**follow_up, "follows": "not-a-clause"}  # read as it stands, never a 500
    async with http.post("/api/ask", json=unknown) as r:
        assert r.status == 200
