"""Chat workspaces the bot was installed in through the platform's own install flow (Slack's
OAuth), each with its council and its bot token; and the one-time states of installs under way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "installed_workspace",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("org", sa.String(64), nullable=False, index=True),
        sa.Column("bot_token", sa.String(256), nullable=False),
        sa.Column("bot_user_id", sa.String(64)),
        sa.Column("installed_at", WHEN, nullable=False),
    )
    op.create_table(
        "install_state",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("install_state")
    op.drop_table("installed_workspace")
