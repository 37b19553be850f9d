"""WebViews: one-time sign-in codes and cookie sessions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webview_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_webview_codes_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_webview_codes")),
    )
    op.create_table(
        "webview_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_webview_sessions_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_webview_sessions")),
    )
    op.create_index(
        op.f("ix_webview_sessions_customer_id"), "webview_sessions", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webview_sessions_customer_id"), table_name="webview_sessions")

    op.drop_table("webview_sessions")
    op.drop_table("webview_codes")
