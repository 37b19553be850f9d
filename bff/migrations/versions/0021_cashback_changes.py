"""Every change of a customer's cashback percentage on a brand.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cashback_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("from_bp", sa.Integer(), nullable=False),
        sa.Column("to_bp", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_cashback_changes_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cashback_changes")),
    )
    op.create_index(
        "ix_cashback_changes_customer_id_brand_id",
        "cashback_changes",
        ["customer_id", "brand", "id"],
    )
    op.create_index("ix_cashback_changes_created_at_id", "cashback_changes", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cashback_changes_created_at_id", table_name="cashback_changes")
    op.drop_index("ix_cashback_changes_customer_id_brand_id", table_name="cashback_changes")
    op.drop_table("cashback_changes")
