"""Points held at checkout to pay part of an order, with their value when held.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("points_hold_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "checkout_payments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_checkout_payments_hold_id_holds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_payments")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_checkout_payments_hold_id")),
    )


def downgrade() -> None:
    op.drop_table("checkout_payments")
    op.drop_column("orders", "points_hold_id")
