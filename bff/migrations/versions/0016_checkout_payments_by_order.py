"""Find the points held for an order by the order: its cancellation releases them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_checkout_payments_brand_order_id", "checkout_payments", ["brand", "order_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_checkout_payments_brand_order_id", table_name="checkout_payments")
