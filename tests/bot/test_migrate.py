"""Alembic migrations: they build exactly the tables the code declares, and bring a database
from before migrations up to date without losing its rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

import bot.escalation.tables  # noqa: F401  (declares the escalation tables on the shared metadata)
from bot import migrate
from bot.storage import Asked, Base, Store
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
        await connection.execute(
            text(
                "CREATE TABLE asked (id VARCHAR(32) PRIMARY KEY, org VARCHAR(64), "
                "kind VARCHAR(16), clause VARCHAR(128), score FLOAT, asker VARCHAR(64), "
                "channel VARCHAR(32), at DATETIME)"
            )
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


async def test_every_revision_goes_down_and_up_again_keeping_the_rows(store: Store) -> None:
    """A rollback: the newer release takes the tables back to the older one's revision."""
    await store.record_asked(
        Asked(org="derbyshire", kind="answer", clause="c1", score=0.9, asker="a", channel="web")
    )
    await store.flush()
    for revision in reversed([each.id for each in migrate.history()][:-1]):
        await migrate.downgrade(store.engine, revision)
        assert await migrate.current(store.engine) == revision
    await migrate.migrate(store.engine)
    assert await migrate.current(store.engine) == migrate.head()
    assert await store.count_by_kind("derbyshire") == {"answer": 1}


async def test_a_database_newer_than_this_release_is_refused_naming_both(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    await store.create_tables()
    async with store.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    for step in (migrate.migrate(store.engine), migrate.check_current(store.engine)):
        with pytest.raises(migrate.MigrationError, match=f"0099, newer than .*{migrate.head()}"):
            await step
    assert await migrate.current(store.engine) == "0099"  # untouched
    await store.close()


async def test_a_server_that_does_not_migrate_refuses_an_old_database(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path)
    await store.create_tables()
    await migrate.downgrade(store.engine, "0003")
    with pytest.raises(migrate.MigrationError, match="at revision 0003, this release needs"):
        await migrate.check_current(store.engine)
    await store.close()
