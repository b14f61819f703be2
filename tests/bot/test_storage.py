"""The store: questions and feedback written behind the answer, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage import Asked, DatabaseFileError, Store, UnknownQuestionError, opaque_asker
from tests.bot.conftest import sqlite_store


def _asked(org: str = "derbyshire", kind: str = "answer") -> Asked:
    return Asked(org=org, kind=kind, clause="c1", score=0.9, asker="a" * 32, channel="web")


async def test_questions_and_feedback_are_stored(store: Store) -> None:
    first = await store.record_asked(_asked())
    await store.record_asked(_asked(kind="fallback"))
    await store.record_asked(_asked(org="wiltshire"))
    await store.record_feedback(first, helpful=True)  # before the question is even written
    await store.flush()
    assert await store.count_by_kind("derbyshire") == {"answer": 1, "fallback": 1}
    assert await store.feedback_for(first) == [True]
    assert await store.feedback_summary("derbyshire") == {True: 1}


async def test_feedback_for_an_unknown_question_is_refused(store: Store) -> None:
    with pytest.raises(UnknownQuestionError):
        await store.record_feedback("0" * 32, helpful=False)


async def test_close_writes_what_is_queued(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    await store.create_tables()
    await store.start()
    ids = [await store.record_asked(_asked()) for _ in range(50)]
    await store.close()
    reopened = sqlite_store(tmp_path)
    assert (await reopened.count_by_kind("derbyshire"))["answer"] == 50
    assert len(set(ids)) == 50
    await reopened.close()


def test_asker_ids_are_stable_and_say_nothing() -> None:
    first = opaque_asker("alice@council.gov.uk", salt="s")
    assert first == opaque_asker("alice@council.gov.uk", salt="s")
    assert first != opaque_asker("alice@council.gov.uk", salt="other")
    assert "alice" not in first and len(first) == 32


async def test_the_sqlite_file_and_its_journals_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    """Security review M8: the database (reports, names, phones) was created world-readable."""
    path = tmp_path / "new" / "folder" / "policybot.sqlite3"
    store = Store.connect(f"sqlite+aiosqlite:///{path}")
    await store.create_tables()
    await store.start()
    await store.record_asked(
        Asked(org="wiltshire", kind="answer", clause="c1", score=0.9, asker="a", channel="web")
    )
    await store.flush()
    files = [path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")]
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in files if f.exists()}
    await store.close()
    assert len(modes) == 3 and set(modes.values()) == {"0o600"}, modes


def test_an_existing_database_file_is_made_private_and_a_bad_path_is_named(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "old.sqlite3"
    existing.write_bytes(b"")
    existing.chmod(0o644)
    Store.connect(f"sqlite+aiosqlite:///{existing}")
    assert existing.stat().st_mode & 0o777 == 0o600
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    with pytest.raises(DatabaseFileError, match="a-file"):
        Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'a-file' / 'db.sqlite3'}")


async def test_a_database_that_refuses_writes_is_seen_and_what_waits_is_bounded(
    tmp_path: Path,
) -> None:
    """Security review M4: with the database refusing writes the server stayed ready and kept
    every record in memory, without bound, then lost them all at shutdown."""
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", max_queued=50)
    await store.create_tables()
    await store.start()
    asked = Asked(org="wiltshire", kind="answer", clause="c1", score=0.9, asker="a", channel="web")
    async with store.engine.begin() as connection:  # the table is gone from under the writer
        await connection.execute(text("ALTER TABLE asked RENAME TO asked_away"))
    kept = await store.record_asked(asked)
    for _ in range(100):
        if store.writes_failing_since is not None:
            break
        await asyncio.sleep(0.02)
    assert store.writes_failing_since is not None
    for _ in range(60):
        await store.record_asked(asked)
    assert store.dropped >= 10  # at most 50 wait, and one batch is with the writer
    async with store.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE asked_away RENAME TO asked"))
    await asyncio.wait_for(store.flush(), timeout=10)
    assert store.writes_failing_since is None
    assert (await store.asked_by("a"))[0].id == kept
    await store.close()


@pytest.mark.parametrize("asked_id", ["a\x00b", "", "not-an-id", "0" * 33])
async def test_feedback_on_an_id_never_given_out_is_refused_plainly(
    store: Store, asked_id: str
) -> None:
    """Security review L1: a NUL in the id was a 500 from PostgreSQL."""
    with pytest.raises(UnknownQuestionError):
        await store.record_feedback(asked_id, helpful=True)


async def test_a_deployment_keeps_its_own_secret_across_restarts(tmp_path: Path) -> None:
    """Security review M5: askers were stored under the public constant salt "policybot"."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'secret.sqlite3'}"
    first = Store.connect(url)
    await first.create_tables()
    made = await first.asker_salt(None)
    assert len(made) >= 32 and made != "policybot"
    await first.close()
    again = Store.connect(url)  # a restart, or another replica
    assert await again.asker_salt(None) == made
    assert await again.asker_salt("from-the-settings") == "from-the-settings"
    await again.close()
