"""Coin marketplace: categories, products, stop-list, redemptions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "marketplace_categories",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"],
            ["currencies.code"],
            name=op.f("fk_marketplace_categories_currency_currencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_categories")),
    )
    op.create_table(
        "marketplace_products",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["marketplace_categories.id"],
            name=op.f("fk_marketplace_products_category_id_marketplace_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_products")),
    )
    op.create_index(
        "ix_marketplace_products_category_id_id",
        "marketplace_products",
        ["category_id", "id"],
        unique=False,
    )

    op.create_table(
        "marketplace_redemptions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_marketplace_redemptions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_marketplace_redemptions_hold_id_holds")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["marketplace_products.id"],
            name=op.f("fk_marketplace_redemptions_product_id_marketplace_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_redemptions")),
        sa.UniqueConstraint(
            "customer_id",
            "idempotency_key",
            name=op.f("uq_marketplace_redemptions_customer_id_idempotency_key"),
        ),
        sa.UniqueConstraint("hold_id", name=op.f("uq_marketplace_redemptions_hold_id")),
    )
    op.create_index(
        "ix_marketplace_redemptions_customer_id_id",
        "marketplace_redemptions",
        ["customer_id", "id"],
        unique=False,
    )

    op.create_table(
        "marketplace_stop_list",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["marketplace_products.id"],
            name=op.f("fk_marketplace_stop_list_product_id_marketplace_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_stop_list")),
        sa.UniqueConstraint(
            "product_id", "scope", name=op.f("uq_marketplace_stop_list_product_id_scope")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""

    op.drop_table("marketplace_stop_list")
    op.drop_index("ix_marketplace_redemptions_customer_id_id", table_name="marketplace_redemptions")

    op.drop_table("marketplace_redemptions")
    op.drop_index("ix_marketplace_products_category_id_id", table_name="marketplace_products")

    op.drop_table("marketplace_products")
    op.drop_table("marketplace_categories")
