"""Level events by time, for analysts' movement history and its export.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_level_events_created_at_id", "level_events", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_level_events_created_at_id", table_name="level_events")
