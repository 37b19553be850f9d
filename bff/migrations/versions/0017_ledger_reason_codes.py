"""Ledger entries keep a reason code and its parameters, shown in the reader's language.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("reason_code", sa.String(length=64), nullable=True))
    op.add_column("ledger_entries", sa.Column("reason_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("ledger_entries", "reason_params")
    op.drop_column("ledger_entries", "reason_code")
