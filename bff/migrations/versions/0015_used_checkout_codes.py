"""Checkout codes that paid already (each pays once), kept a few minutes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_checkout_codes",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_checkout_codes")),
    )
    op.create_index(op.f("ix_used_checkout_codes_used_at"), "used_checkout_codes", ["used_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_used_checkout_codes_used_at"), table_name="used_checkout_codes")
    op.drop_table("used_checkout_codes")
