"""Catalogue rows keep their texts in other languages; pending accruals their rule's title.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRANSLATED = (
    "partners",
    "offers",
    "marketplace_categories",
    "marketplace_products",
    "accrual_rules",
)
CATEGORIES = (
    "grocery",
    "bank",
    "telecom",
    "insurance",
    "cinema",
    "coffee",
    "delivery",
    "travel",
    "fuel",
    "pharmacy",
    "other",
)


def upgrade() -> None:
    for table in TRANSLATED:
        op.add_column(
            table, sa.Column("texts", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    op.add_column("pending_accruals", sa.Column("reason_texts", sa.JSON(), nullable=True))
    # Partner categories become a closed set, named in each language.
    partners = sa.table("partners", sa.column("category", sa.String))
    op.execute(
        partners.update().where(partners.c.category.not_in(CATEGORIES)).values(category="other")
    )


def downgrade() -> None:
    op.drop_column("pending_accruals", "reason_texts")
    for table in TRANSLATED:
        op.drop_column(table, "texts")
