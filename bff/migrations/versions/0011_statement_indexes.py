"""Indexes for partners' statements: their events and their holds, in id order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_partner_events_partner_id_id", "partner_events", ["partner_id", "id"])
    op.create_index(
        "ix_holds_source_type_source_id_id", "holds", ["source_type", "source_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_holds_source_type_source_id_id", table_name="holds")
    op.drop_index("ix_partner_events_partner_id_id", table_name="partner_events")
