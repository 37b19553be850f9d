"""Orders, the events that reported them, accrual rules and the pending queue."""

from __future__ import annotations

import enum
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bff.customers import models as _customers  # noqa: F401 - registers the FK target
from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow


class OrderStatus(enum.StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RuleKind(enum.StrEnum):
    PER_AMOUNT = "per_amount"  # N points per full step of the amount (1 coin per 20 rubles)
    PERCENT = "percent"  # basis points of the amount, plus the level's bonus


class ExpiryPolicy(enum.StrEnum):
    NEVER = "never"
    DAYS = "days"
    END_OF_MONTH = "end_of_month"
    END_OF_YEAR = "end_of_year"


class PendingStatus(enum.StrEnum):
    PENDING = "pending"
    ACCRUED = "accrued"
    CANCELLED = "cancelled"
    # Could not post for a reason retrying cannot fix; kept aside with its error for staff.
    SET_ASIDE = "set_aside"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("brand", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128))
    brand: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    city: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)  # kopecks
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.COMPLETED)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items: Mapped[list[Any] | None] = mapped_column(JSON)
    # Points that paid part of it (a checkout hold, captured at completion).
    points_hold_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderEvent(Base):
    """Every accepted event, kept for audit; its id makes a repeat a no-op."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccrualRule(Base):
    __tablename__ = "accrual_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )  # other languages
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    brand: Mapped[str | None] = mapped_column(String(64))  # None: every brand
    kind: Mapped[str] = mapped_column(String(16))
    step_amount: Mapped[int | None] = mapped_column(BigInteger)  # kopecks per step
    points_per_step: Mapped[int | None] = mapped_column(Integer)
    percent_bp: Mapped[int | None] = mapped_column(Integer)
    level_bonus: Mapped[bool] = mapped_column(Boolean, default=False)
    cities: Mapped[list[str] | None] = mapped_column(JSON)  # None: every city
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expiry_policy: Mapped[str] = mapped_column(String(16), default=ExpiryPolicy.NEVER)
    expiry_days: Mapped[int | None] = mapped_column(Integer)
    flag_key: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccrualRuleChange(Base):
    """Who changed a rule, when, and what it was before and after."""

    __tablename__ = "accrual_rule_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("accrual_rules.id"), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingAccrual(Base):
    """What an order will accrue once its hold window has passed without a cancellation."""

    __tablename__ = "pending_accruals"
    __table_args__ = (
        Index("ix_pending_accruals_status_due_at", "status", "due_at"),
        Index("ix_pending_accruals_customer_id_status", "customer_id", "status"),
        UniqueConstraint("order_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("accrual_rules.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(16))
    computed_amount: Mapped[int] = mapped_column(BigInteger)  # for the full order
    amount: Mapped[int] = mapped_column(BigInteger)  # after refunds
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0)  # refunds not collected
    status: Mapped[str] = mapped_column(String(16), default=PendingStatus.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    # The rule's title in each language when the order completed: the entry's reason.
    reason_texts: Mapped[dict[str, str] | None] = mapped_column(JSON)
    expiry_policy: Mapped[str] = mapped_column(String(16))
    expiry_days: Mapped[int | None] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str | None] = mapped_column(String(200))


class CashbackCap(Base):
    """The program's maximum cashback percentage for a currency and brand (None: every
    brand without a cap of its own), set by admins."""

    __tablename__ = "cashback_caps"
    __table_args__ = (UniqueConstraint("currency", "brand", postgresql_nulls_not_distinct=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    brand: Mapped[str | None] = mapped_column(String(64))
    max_bp: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CashbackChange(Base):
    """One change of a customer's cashback percentage on a brand, for analysts and the
    push that tells the customer it went up."""

    __tablename__ = "cashback_changes"
    __table_args__ = (
        Index("ix_cashback_changes_customer_id_brand_id", "customer_id", "brand", "id"),
        Index("ix_cashback_changes_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    brand: Mapped[str] = mapped_column(String(64))  # "*": rules of every brand
    from_bp: Mapped[int] = mapped_column(Integer)
    to_bp: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
