"""Partners, their offers, and customers' activations of offers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bff.customers import models as _customers  # noqa: F401 - registers the FK target
from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow


class RewardKind(enum.StrEnum):
    FIXED = "fixed"  # a number of points per completion
    PERCENT = "percent"  # basis points of the reported amount, up to a cap


class PartnerCategory(enum.StrEnum):
    GROCERY = "grocery"
    BANK = "bank"
    TELECOM = "telecom"
    INSURANCE = "insurance"
    CINEMA = "cinema"
    COFFEE = "coffee"
    DELIVERY = "delivery"
    TRAVEL = "travel"
    FUEL = "fuel"
    PHARMACY = "pharmacy"
    OTHER = "other"

    @classmethod
    def of(cls, stored: str) -> PartnerCategory:
        """The stored category; one written behind the service's back counts as OTHER."""
        return cls._value2member_map_.get(stored, cls.OTHER)  # type: ignore[return-value]


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), index=True)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )  # other languages
    # Encrypted with the service's secrets key: the HMAC needs the secret itself back.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    adapter: Mapped[str | None] = mapped_column(String(64))
    kopecks_per_point: Mapped[int | None] = mapped_column(Integer)  # takes points if set
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_partner_id_id", "partner_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )  # other languages
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    reward_kind: Mapped[str] = mapped_column(String(16))
    reward_points: Mapped[int | None] = mapped_column(BigInteger)
    reward_percent_bp: Mapped[int | None] = mapped_column(Integer)
    reward_cap: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[int | None] = mapped_column(BigInteger)  # points in all; None: unlimited
    budget_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    cities: Mapped[list[str] | None] = mapped_column(JSON)
    levels: Mapped[list[str] | None] = mapped_column(JSON)  # level codes; None: everyone
    # A partner product that raises the customer's cashback percentage while it is active
    # (product.activated to product.deactivated), or for boost_days after activation.
    boost_bp: Mapped[int | None] = mapped_column(Integer)
    boost_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfferActivation(Base):
    """A customer opted into an offer; partner events accrue only for activated offers."""

    __tablename__ = "offer_activations"
    __table_args__ = (
        UniqueConstraint("offer_id", "customer_id"),
        Index("ix_offer_activations_customer_id_active", "customer_id", "active"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventStatus(enum.StrEnum):
    ACCRUED = "accrued"  # a completion that earned points
    REVERSED = "reversed"  # a completion later taken back
    APPLIED = "applied"  # a reversal that took points back, or a product event applied
    IGNORED = "ignored"  # a product event older than the one already applied
    REJECTED = "rejected"  # stored with the reason, for the partner to reconcile


class PartnerEvent(Base):
    """Every signed event a partner sent, raw payload included, whatever became of it."""

    __tablename__ = "partner_events"
    __table_args__ = (
        UniqueConstraint("partner_id", "event_id"),
        Index("ix_partner_events_partner_id_id", "partner_id", "id"),  # statements
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    amount: Mapped[int | None] = mapped_column(BigInteger)  # kopecks, for percent rewards
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0)  # reversal not collected
    refers_to: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerBoost(Base):
    """A customer's partner product and the cashback boost it brings. Rows are kept when
    the boost ends: an order reported late takes the boosts active when it completed."""

    __tablename__ = "customer_boosts"
    __table_args__ = (
        UniqueConstraint("customer_id", "offer_id"),
        Index("ix_customer_boosts_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    boost_bp: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: never active
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until deactivated
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: active (if started)
    # The partner's time of the latest product event applied: older ones change nothing.
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BoostPeriod(Base):
    """One period a boost was active, for orders that completed inside it."""

    __tablename__ = "boost_periods"
    __table_args__ = (
        Index("ix_boost_periods_customer_id_started_at", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    boost_id: Mapped[int] = mapped_column(ForeignKey("customer_boosts.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    boost_bp: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: still active
