"""Questions asked, feedback, platform events handled, conversations the bot was let into.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asked",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("org", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("clause", sa.String(128)),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("asker", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asked_id", sa.String(32), sa.ForeignKey("asked.id"), nullable=False, index=True),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "processed_event",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "conversation",
        sa.Column("id", sa.String(512), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("org", sa.String(64)),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("conversation", "processed_event", "feedback", "asked"):
        op.drop_table(table)
