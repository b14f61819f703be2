"""Alembic migrations: they build exactly the tables the code declares, and bring a database
from before migrations up to date without losing its rows."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

import bot.escalation.tables  # noqa: F401  (declares the escalation tables on the shared metadata)
from bot.storage import Base, Store
from tests.bot.conftest import sqlite_store


async def test_the_migrations_build_what_the_models_declare(store: Store) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return list(compare_metadata(context, Base.metadata))

    async with store.engine.connect() as connection:
        options = (
            connection.sync_connection.get_execution_options() if connection.sync_connection else {}
        )
        schema = (options.get("schema_translate_map") or {}).get(None)
        if schema:  # the comparison reads the search path, not the translate map
            await connection.execute(text(f"SET search_path TO {schema}"))
        assert await connection.run_sync(differences) == []


async def test_a_database_from_before_migrations_is_stamped_and_upgraded(tmp_path: Path) -> None:
    old = sqlite_store(tmp_path)
    async with old.engine.begin() as connection:  # what `create_all` made before Alembic
        await connection.run_sync(
            lambda sync: Base.metadata.create_all(sync, tables=[Base.metadata.tables["asked"]])
        )
        await connection.execute(
            text(
                "INSERT INTO asked (id, org, kind, score, asker, channel, at) "
                "VALUES ('q1', 'derbyshire', 'answer', 0.9, 'a', 'web', '2026-01-01')"
            )
        )
    await old.close()
    store = sqlite_store(tmp_path)
    await store.create_tables()
    async with store.engine.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        cases = await connection.scalar(text("SELECT count(*) FROM escalation_case"))
    assert version is not None and cases == 0
    assert await store.count_by_kind("derbyshire") == {"answer": 1}
    await store.close()
