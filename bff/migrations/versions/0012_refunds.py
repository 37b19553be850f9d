"""Refunds of captured payments: what each capture took from which lot, and how much of
each hold was given back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "holds",
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.alter_column("holds", "refunded_amount", server_default=None)
    op.create_check_constraint(
        op.f("ck_holds_refund_within_capture"), "holds", "refunded_amount <= captured_amount"
    )
    op.create_table(
        "lot_takes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("returned", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "returned >= 0 AND returned <= amount", name=op.f("ck_lot_takes_returned_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_lot_takes_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_takes_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_takes")),
    )
    op.create_index(op.f("ix_lot_takes_entry_id"), "lot_takes", ["entry_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lot_takes_entry_id"), table_name="lot_takes")
    op.drop_table("lot_takes")
    op.drop_constraint(op.f("ck_holds_refund_within_capture"), "holds", type_="check")
    op.drop_column("holds", "refunded_amount")
