"""Pending accruals set aside with the error that stopped them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pending_accruals", sa.Column("failure", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("pending_accruals", "failure")
