from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow
from bff.ledger import models as _ledger  # noqa: F401 - registers the FK target


class SpendingRule(Base):
    """How much of an order a currency may pay, per brand (a null brand: every brand
    without a rule of its own), and what one unit of it is worth."""

    __tablename__ = "spending_rules"
    __table_args__ = (UniqueConstraint("currency", "brand", postgresql_nulls_not_distinct=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    brand: Mapped[str | None] = mapped_column(String(64))
    kopecks_per_point: Mapped[int] = mapped_column(Integer)
    max_share_bp: Mapped[int] = mapped_column(Integer)  # of the order's amount
    min_money_kopecks: Mapped[int] = mapped_column(BigInteger)  # left to pay in money
    # Level code -> the share that level may pay instead (10,000: the whole order).
    level_shares: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckoutPayment(Base):
    """Points held to pay part of an order, and what they were worth when held: the
    order's completion captures them and earns on the rest, paid in money."""

    __tablename__ = "checkout_payments"
    # An order's cancellation finds the points held for it.
    __table_args__ = (Index("ix_checkout_payments_brand_order_id", "brand", "order_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    brand: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(128))
    points: Mapped[int] = mapped_column(BigInteger)
    value_kopecks: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def value_of(self, points: int) -> int:
        """The value, in kopecks, of ``points`` of this payment, at the price it was held."""
        return self.value_kopecks * points // self.points


class UsedCheckoutCode(Base):
    """A checkout code a payment used: each pays once. Kept only while it could still be
    presented (a few minutes), so the table stays small."""

    __tablename__ = "used_checkout_codes"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SpendingRuleChange(Base):
    """Every change of a spending rule, with its author."""

    __tablename__ = "spending_rule_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("spending_rules.id"), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
