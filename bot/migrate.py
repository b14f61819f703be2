"""Bring a database's tables up to date with Alembic, on startup and from `policybot db upgrade`.

Migrations run inside one transaction on the caller's connection. On PostgreSQL an advisory lock
makes replicas starting together take turns; a database made before migrations existed (tables,
no version) is stamped as the first revision, then upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
FIRST_REVISION = "0001"
ADVISORY_LOCK = 0x706F6C69  # "poli": any constant shared by every replica


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    schema = (connection.get_execution_options().get("schema_translate_map") or {}).get(None)
    if schema and connection.dialect.name == "postgresql":
        # ALTER TABLE as Alembic writes it ignores the schema translation: name the schema.
        connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
    tables = set(inspect(connection).get_table_names(schema=schema))
    if "asked" in tables and "alembic_version" not in tables:
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
        await connection.run_sync(_upgrade)
