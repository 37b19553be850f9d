"""Initial schema: customers, currencies, wallets, entries, holds, lots, idempotency.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("title_en", sa.String(length=64), nullable=False),
        sa.Column("title_ru", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_customers_external_id")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_records_scope_key")),
    )
    op.create_table(
        "wallets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("held >= 0", name=op.f("ck_wallets_held_not_negative")),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_wallets_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallets_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint(
            "customer_id", "currency", name=op.f("uq_wallets_customer_id_currency")
        ),
    )
    op.create_index(op.f("ix_wallets_customer_id"), "wallets", ["customer_id"], unique=False)

    op.create_table(
        "holds",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("wallet_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_holds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_holds_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_holds_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index("ix_holds_status_expires_at", "holds", ["status", "expires_at"], unique=False)
    op.create_index(op.f("ix_holds_wallet_id"), "holds", ["wallet_id"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("wallet_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("held_delta", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("held_after", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "idempotency_record_id",
            sa.BigInteger(),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_ledger_entries_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_ledger_entries_hold_id_holds")
        ),
        sa.ForeignKeyConstraint(
            ["idempotency_record_id"],
            ["idempotency_records.id"],
            name=op.f("fk_ledger_entries_idempotency_record_id_idempotency_records"),
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_ledger_entries_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint(
            "wallet_id", "version", name=op.f("uq_ledger_entries_wallet_id_version")
        ),
    )
    op.create_index(
        "ix_ledger_entries_customer_id_id", "ledger_entries", ["customer_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_entries_idempotency_record_id"),
        "ledger_entries",
        ["idempotency_record_id"],
        unique=False,
    )

    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("wallet_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= amount", name=op.f("ck_lots_remaining_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_lots_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_lots_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
    )
    op.create_index("ix_lots_expires_at", "lots", ["expires_at"], unique=False)
    op.create_index(
        "ix_lots_wallet_id_expires_at", "lots", ["wallet_id", "expires_at"], unique=False
    )

    currencies = sa.table(
        "currencies",
        sa.column("code", sa.String),
        sa.column("title_en", sa.String),
        sa.column("title_ru", sa.String),
        sa.column("enabled", sa.Boolean),
        sa.column("allow_negative", sa.Boolean),
    )
    op.bulk_insert(
        currencies,
        [
            {
                "code": "POINTS",
                "title_en": "points",
                "title_ru": "баллы",
                "enabled": True,
                "allow_negative": False,
            },
            {
                "code": "COINS",
                "title_en": "coins",
                "title_ru": "монеты",
                "enabled": True,
                "allow_negative": False,
            },
            {
                "code": "LEGACY",
                "title_en": "bonus rubles",
                "title_ru": "бонусные рубли",
                "enabled": False,
                "allow_negative": False,
            },
        ],
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_lots_wallet_id_expires_at", table_name="lots")
    op.drop_index("ix_lots_expires_at", table_name="lots")

    op.drop_table("lots")
    op.drop_index(op.f("ix_ledger_entries_idempotency_record_id"), table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_customer_id_id", table_name="ledger_entries")

    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_holds_wallet_id"), table_name="holds")
    op.drop_index("ix_holds_status_expires_at", table_name="holds")

    op.drop_table("holds")
    op.drop_index(op.f("ix_wallets_customer_id"), table_name="wallets")

    op.drop_table("wallets")
    op.drop_table("idempotency_records")
    op.drop_table("customers")
    op.drop_table("currencies")
