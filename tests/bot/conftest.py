"""A store on SQLite and, where a server is reachable (always in CI), on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage import Store

POSTGRES_URL = os.environ.get(
    "POLICYBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def sqlite_store(tmp_path: Path) -> Store:
    return Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")


async def postgres_schema() -> str:
    """A fresh schema of its own, so that runs never see each other's rows; skips (outside CI)
    when no server answers."""
    store = Store.connect(POSTGRES_URL)
    try:
        await store.ping()
        schema = f"t{uuid.uuid4().hex[:12]}"
        async with store.engine.begin() as connection:
            await connection.execute(text(f"CREATE SCHEMA {schema}"))
        return schema
    except Exception as exc:  # no server here: say so, or fail where one must be (CI)
        if os.environ.get("CI"):
            raise
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__}); CI runs it"
        )
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        made = sqlite_store(tmp_path)
    else:
        made = Store.connect(POSTGRES_URL, schema=await postgres_schema())
    await made.create_tables()
    await made.start()
    yield made
    await made.close()
