"""Cashback: partner products that boost the percentage, their periods, program caps.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("offers", sa.Column("boost_bp", sa.Integer(), nullable=True))
    op.add_column("offers", sa.Column("boost_days", sa.Integer(), nullable=True))
    op.create_table(
        "customer_boosts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("boost_bp", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_boosts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_customer_boosts_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_boosts")),
        sa.UniqueConstraint(
            "customer_id", "offer_id", name=op.f("uq_customer_boosts_customer_id_offer_id")
        ),
    )
    op.create_index("ix_customer_boosts_ends_at", "customer_boosts", ["ends_at"])
    op.create_table(
        "boost_periods",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("boost_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("boost_bp", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["boost_id"],
            ["customer_boosts.id"],
            name=op.f("fk_boost_periods_boost_id_customer_boosts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_boost_periods_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boost_periods")),
    )
    op.create_index(
        "ix_boost_periods_customer_id_started_at", "boost_periods", ["customer_id", "started_at"]
    )
    op.create_table(
        "cashback_caps",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=True),
        sa.Column("max_bp", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_cashback_caps_currency_currencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cashback_caps")),
        sa.UniqueConstraint(
            "currency",
            "brand",
            name=op.f("uq_cashback_caps_currency_brand"),
            postgresql_nulls_not_distinct=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("cashback_caps")
    op.drop_index("ix_boost_periods_customer_id_started_at", table_name="boost_periods")
    op.drop_table("boost_periods")
    op.drop_index("ix_customer_boosts_ends_at", table_name="customer_boosts")
    op.drop_table("customer_boosts")
    op.drop_column("offers", "boost_days")
    op.drop_column("offers", "boost_bp")
