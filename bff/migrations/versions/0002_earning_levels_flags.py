"""Earning: orders, accrual rules, the pending queue; levels; feature flags.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "feature_flags",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("rollout_percent", sa.Integer(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feature_flags")),
    )
    op.create_table(
        "levels",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("name_ru", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("cashback_bonus_bp", sa.Integer(), nullable=False),
        sa.Column("reward_currency", sa.String(length=16), nullable=True),
        sa.Column("reward_amount", sa.BigInteger(), nullable=False),
        sa.Column("perks", sa.JSON(), nullable=False),
        sa.Column("is_floor", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_levels")),
        sa.UniqueConstraint("rank", name=op.f("uq_levels_rank")),
    )
    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_order_events_event_id")),
    )
    op.create_table(
        "accrual_rules",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("step_amount", sa.BigInteger(), nullable=True),
        sa.Column("points_per_step", sa.Integer(), nullable=True),
        sa.Column("percent_bp", sa.Integer(), nullable=True),
        sa.Column("level_bonus", sa.Boolean(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expiry_policy", sa.String(length=16), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=True),
        sa.Column("flag_key", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_accrual_rules_currency_currencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accrual_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_accrual_rules_code")),
    )
    op.create_table(
        "customer_levels",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("level_code", sa.String(length=32), nullable=False),
        sa.Column("floor_code", sa.String(length=32), nullable=True),
        sa.Column("completed_orders", sa.Integer(), nullable=False),
        sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("level_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("postponed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_levels_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["floor_code"], ["levels.code"], name=op.f("fk_customer_levels_floor_code_levels")
        ),
        sa.ForeignKeyConstraint(
            ["level_code"], ["levels.code"], name=op.f("fk_customer_levels_level_code_levels")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_levels")),
    )
    op.create_table(
        "level_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_level", sa.String(length=32), nullable=True),
        sa.Column("to_level", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_level_events_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_level_events")),
    )
    op.create_index(
        op.f("ix_level_events_customer_id"), "level_events", ["customer_id"], unique=False
    )

    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("items", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("brand", "external_id", name=op.f("uq_orders_brand_external_id")),
    )
    op.create_index(op.f("ix_orders_customer_id"), "orders", ["customer_id"], unique=False)

    op.create_table(
        "accrual_rule_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["accrual_rules.id"],
            name=op.f("fk_accrual_rule_changes_rule_id_accrual_rules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accrual_rule_changes")),
    )
    op.create_index(
        op.f("ix_accrual_rule_changes_rule_id"), "accrual_rule_changes", ["rule_id"], unique=False
    )

    op.create_table(
        "level_rewards",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("level_code", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_level_rewards_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_level_rewards_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["level_code"], ["levels.code"], name=op.f("fk_level_rewards_level_code_levels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_level_rewards")),
        sa.UniqueConstraint(
            "customer_id", "level_code", name=op.f("uq_level_rewards_customer_id_level_code")
        ),
    )
    op.create_table(
        "pending_accruals",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("computed_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("shortfall", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("expiry_policy", sa.String(length=16), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pending_accruals_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_pending_accruals_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_pending_accruals_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["accrual_rules.id"],
            name=op.f("fk_pending_accruals_rule_id_accrual_rules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_accruals")),
        sa.UniqueConstraint(
            "order_id", "rule_id", name=op.f("uq_pending_accruals_order_id_rule_id")
        ),
    )
    op.create_index(
        "ix_pending_accruals_customer_id_status",
        "pending_accruals",
        ["customer_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pending_accruals_order_id"), "pending_accruals", ["order_id"], unique=False
    )
    op.create_index(
        "ix_pending_accruals_status_due_at", "pending_accruals", ["status", "due_at"], unique=False
    )

    op.add_column("customers", sa.Column("city", sa.String(length=64), nullable=True))

    levels = sa.table(
        "levels",
        sa.column("code", sa.String),
        sa.column("rank", sa.Integer),
        sa.column("name_en", sa.String),
        sa.column("name_ru", sa.String),
        sa.column("threshold", sa.Integer),
        sa.column("cashback_bonus_bp", sa.Integer),
        sa.column("reward_currency", sa.String),
        sa.column("reward_amount", sa.BigInteger),
        sa.column("perks", sa.JSON),
        sa.column("is_floor", sa.Boolean),
    )
    op.bulk_insert(
        levels,
        [
            {
                "code": "BRONZE",
                "rank": 1,
                "name_en": "Bronze",
                "name_ru": "Бронза",
                "threshold": 0,
                "cashback_bonus_bp": 0,
                "reward_currency": None,
                "reward_amount": 0,
                "perks": [],
                "is_floor": True,
            },
            {
                "code": "SILVER",
                "rank": 2,
                "name_en": "Silver",
                "name_ru": "Серебро",
                "threshold": 5,
                "cashback_bonus_bp": 100,
                "reward_currency": "POINTS",
                "reward_amount": 500,
                "perks": ["free_delivery_slot"],
                "is_floor": False,
            },
            {
                "code": "GOLD",
                "rank": 3,
                "name_en": "Gold",
                "name_ru": "Золото",
                "threshold": 15,
                "cashback_bonus_bp": 300,
                "reward_currency": "POINTS",
                "reward_amount": 1000,
                "perks": ["free_delivery_slot", "free_dish_swap"],
                "is_floor": True,
            },
            {
                "code": "PLATINUM",
                "rank": 4,
                "name_en": "Platinum",
                "name_ru": "Платина",
                "threshold": 40,
                "cashback_bonus_bp": 500,
                "reward_currency": "POINTS",
                "reward_amount": 2000,
                "perks": ["free_delivery_slot", "free_dish_swap", "pay_fully_with_points"],
                "is_floor": False,
            },
        ],
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("customers", "city")

    op.drop_index("ix_pending_accruals_status_due_at", table_name="pending_accruals")
    op.drop_index(op.f("ix_pending_accruals_order_id"), table_name="pending_accruals")
    op.drop_index("ix_pending_accruals_customer_id_status", table_name="pending_accruals")

    op.drop_table("pending_accruals")
    op.drop_table("level_rewards")
    op.drop_index(op.f("ix_accrual_rule_changes_rule_id"), table_name="accrual_rule_changes")

    op.drop_table("accrual_rule_changes")
    op.drop_index(op.f("ix_orders_customer_id"), table_name="orders")

    op.drop_table("orders")
    op.drop_index(op.f("ix_level_events_customer_id"), table_name="level_events")

    op.drop_table("level_events")
    op.drop_table("customer_levels")
    op.drop_table("accrual_rules")
    op.drop_table("order_events")
    op.drop_table("levels")
    op.drop_table("feature_flags")
