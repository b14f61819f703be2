"""`policybot insights` on what a real server stored: the issue's own check, end to end."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from adapters.config import Settings
from adapters.server import build_app
from bot.storage import Store
from tests.adapters.cli.invoke import Ran, run
from tests.conftest import shipped_assistant

UNCOVERED = (
    "How do I claim mileage for home visits? Email me at jo.bloggs@example.org or ring 07700 900123"
)


def run_on(database: Path, *args: str) -> Ran:
    return run(*args, env={"DATABASE_URL": f"sqlite:///{database}", "POLICYBOT_CONFIG": None})


async def ask_the_web_chat(database: Path, *questions: str, helpful: bool | None = None) -> None:
    """Each question from a different person, who marks the reply helpful or not (or neither)."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}")
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant()))
    await server.start_server()
    try:
        async with ClientSession(base_url=str(server.make_url("/"))) as http:
            for number, question in enumerate(questions):
                body = {"org": "wiltshire", "question": question, "asker": f"web-{number}"}
                async with http.post("/api/ask", json=body) as response:
                    assert response.status == 200
                    asked = await response.json()
                if helpful is not None:
                    feedback = {"id": asked["id"], "helpful": helpful}
                    async with http.post("/api/feedback", json=feedback) as response:
                        assert response.status == 200
    finally:
        await server.close()  # writes what is queued for the database


async def age_every_question(database: Path, days: int) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{database}")
    async with store.engine.begin() as connection:
        then = datetime.now(UTC) - timedelta(days=days)
        await connection.execute(text("UPDATE asked SET at = :then"), {"then": then})
    await store.close()


def test_an_unanswered_question_is_themed_redacted_then_purged(tmp_path: Path) -> None:
    database = tmp_path / "policybot.sqlite3"
    asyncio.run(
        ask_the_web_chat(database, UNCOVERED, "Can I accept a friend request from a client?")
    )

    found = run_on(database, "insights", "--org", "wiltshire", "--json")
    assert found.returncode == 0, found.stderr
    insights = json.loads(found.stdout)
    assert (insights["asked"], insights["answered"]) == (2, 1)
    assert insights["clarified"] + insights["not_covered"] == 1
    (theme,) = insights["themes"]
    (kept,) = theme["questions"]
    assert "[email]" in kept and "[phone]" in kept
    assert "jo.bloggs" not in found.stdout.decode() and "900123" not in found.stdout.decode()
    assert theme["people"] == 1

    readable = run_on(database, "insights", "--org", "wiltshire").stdout.decode()
    assert "2 questions: 1 answered (50%)" in readable and "1 person asked about" in readable
    rows = list(
        csv.DictReader(io.StringIO(run_on(database, "insights", "--csv", "themes").stdout.decode()))
    )
    assert [(row["org"], row["people"]) for row in rows] == [("wiltshire", "1")]

    asyncio.run(age_every_question(database, days=91))  # past the default 90 days for texts
    purged = run_on(database, "escalations", "purge")
    assert purged.returncode == 0, purged.stderr
    assert "question texts: forgot 1" in purged.stdout.decode()
    later = json.loads(
        run_on(database, "insights", "--since", "100", "--org", "wiltshire", "--json").stdout
    )
    assert later["asked"] == 2 and later["themes"] == []


def test_unknown_council_and_bad_period_are_refused(tmp_path: Path) -> None:
    database = tmp_path / "policybot.sqlite3"
    unknown = run_on(database, "insights", "--org", "nowhere")
    assert unknown.returncode == 2 and b"unknown council 'nowhere'" in unknown.stderr
    assert run_on(database, "insights", "--since", "0").returncode == 2


PARKING = [
    "how do I get a staff parking permit",
    "where can I park my car at county hall",
    "is there free parking for employees",
]
POLITICS = [
    "can I share political stuff online",
    "can I post party political content",
    "am I allowed to share political posts on facebook",
]


def test_kb_suggest_offers_questions_to_the_nearest_clause_and_names_what_none_covers(
    tmp_path: Path,
) -> None:
    database = tmp_path / "policybot.sqlite3"
    asyncio.run(ask_the_web_chat(database, *PARKING))
    asyncio.run(ask_the_web_chat(database, *POLITICS, helpful=False))
    before = (Path(__file__).parents[3] / "knowledge/wiltshire/clauses.yaml").read_bytes()

    out = tmp_path / "suggested.yaml"
    done = run_on(database, "kb", "suggest", "--org", "wiltshire", "--output", str(out))
    assert done.returncode == 0, done.stderr
    patch = yaml.safe_load(out.read_text())["wiltshire"]
    (add,) = patch["add_questions"]
    assert add["clause"] == "politically-restricted-posts" and add["people"] == 3
    assert set(add["questions"]) <= set(POLITICS) and add["questions"]
    (uncovered,) = patch["not_covered"]
    assert sorted(uncovered["questions"]) == sorted(PARKING) and uncovered["people"] == 3
    assert (Path(__file__).parents[3] / "knowledge/wiltshire/clauses.yaml").read_bytes() == before

    nothing = run_on(tmp_path / "empty.sqlite3", "kb", "suggest")
    assert nothing.returncode == 0 and b"Nothing to suggest" in nothing.stdout
