"""Retention: cases marked for purging, outbox rows that remove a purged case's messages, and
the record of what was purged (without the personal data that went with it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("escalation_case", sa.Column("purge_requested_at", WHEN))
    op.add_column(
        "outbox", sa.Column("direct", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("outbox", sa.Column("removes", sa.String(256)))
    op.create_table(
        "purged_case",
        sa.Column("reference", sa.String(16), primary_key=True),
        sa.Column("org", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN),
        sa.Column("purged_at", WHEN, nullable=False),
        sa.Column("messages_deleted", sa.Integer, nullable=False),
        sa.Column("messages_tombstoned", sa.Integer, nullable=False),
        sa.Column("messages_kept", sa.Integer, nullable=False),
        sa.Column("messages_failed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("purged_case")
    # Batch mode: SQLite drops a column by copying the table.
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("removes")
        outbox.drop_column("direct")
    with op.batch_alter_table("escalation_case") as case:
        case.drop_column("purge_requested_at")
