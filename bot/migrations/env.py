"""Alembic's entry point: migrations run on the connection `bot.migrate` hands over, inside
its transaction, so that a server applies them on startup and tests in their own schema."""

from alembic import context

connection = context.config.attributes["connection"]
# Batch mode lets column changes run on SQLite, which cannot ALTER most things in place.
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
