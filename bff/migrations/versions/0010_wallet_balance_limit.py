"""Wallet balances stay within GraphQL's Int.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_BALANCE = 2**31 - 1  # bff.ledger.models.MAX_BALANCE when this revision was written


def upgrade() -> None:
    # NOT VALID, then VALIDATE: wallets are not locked against writes while the existing
    # rows are checked. A wallet already above the limit stops the upgrade: it must be
    # looked at by a person, not clipped by a migration.
    op.create_check_constraint(
        op.f("ck_wallets_balance_within_limit"),
        "wallets",
        f"balance <= {MAX_BALANCE}",
        postgresql_not_valid=True,
    )
    op.execute("ALTER TABLE wallets VALIDATE CONSTRAINT ck_wallets_balance_within_limit")


def downgrade() -> None:
    op.drop_constraint("ck_wallets_balance_within_limit", "wallets", type_="check")
