"""Spending rules: how much of an order points may pay, and what a point is worth.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spending_rules",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=True),
        sa.Column("kopecks_per_point", sa.Integer(), nullable=False),
        sa.Column("max_share_bp", sa.Integer(), nullable=False),
        sa.Column("min_money_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("level_shares", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_spending_rules_currency_currencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spending_rules")),
        sa.UniqueConstraint(
            "currency",
            "brand",
            name=op.f("uq_spending_rules_currency_brand"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table(
        "spending_rule_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["spending_rules.id"],
            name=op.f("fk_spending_rule_changes_rule_id_spending_rules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spending_rule_changes")),
    )
    op.create_index(op.f("ix_spending_rule_changes_rule_id"), "spending_rule_changes", ["rule_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_spending_rule_changes_rule_id"), table_name="spending_rule_changes")
    op.drop_table("spending_rule_changes")
    op.drop_table("spending_rules")
