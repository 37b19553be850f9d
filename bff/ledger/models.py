"""Wallets, immutable entries, holds, lots and idempotency records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bff.customers import models as _customers  # noqa: F401 - registers the FK target
from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow


class CurrencyCode(enum.StrEnum):
    POINTS = "POINTS"
    COINS = "COINS"
    LEGACY = "LEGACY"


class SourceType(enum.StrEnum):
    """What caused a posting (``source_type`` of entries and holds)."""

    ORDER = "order"  # the ordering system's events
    PENDING = "pending"  # an order's accrual, after its hold window
    CHECKOUT = "checkout"  # points paying an order at the till
    PARTNER = "partner"  # points paying at a partner
    PARTNER_EVENT = "partner_event"  # a partner reported an offer's completion
    MARKETPLACE_PRODUCT = "marketplace_product"  # a gift
    LEVEL = "level"  # a level's reward
    EXPIRY = "expiry"
    CONVERSION = "conversion"  # a retired currency converted
    IMPORT = "import"  # balances of the previous system
    STAFF = "staff"  # a correction by support
    HOLD = "hold"  # the end of a hold without a source of its own
    DEMO = "demo"  # demo data
    OTHER = "other"


class EntryKind(enum.StrEnum):
    ACCRUAL = "accrual"
    SPEND = "spend"
    EXPIRE = "expire"
    ADJUST = "adjust"
    REVERSE = "reverse"
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    CONVERT = "convert"
    REFUND = "refund"  # a captured spend given back


class HoldStatus(enum.StrEnum):
    ACTIVE = "active"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


class Currency(Base):
    """A configurable currency; ``allow_negative`` lets corrections go below zero."""

    __tablename__ = "currencies"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title_en: Mapped[str] = mapped_column(String(64))
    title_ru: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)


# The largest balance a wallet may hold: GraphQL's Int (32 bits, signed), which every
# client reads exactly, JavaScript included; a posting that would pass it is refused.
MAX_BALANCE = 2**31 - 1
BALANCE_LIMIT_CONSTRAINT = "balance_within_limit"


class Wallet(Base):
    __tablename__ = "wallets"
    __table_args__ = (
        UniqueConstraint("customer_id", "currency"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        # Checked by PostgreSQL itself, so that every path that credits a wallet (single
        # postings, bulk accruals, imports, conversions) keeps it.
        CheckConstraint(f"balance <= {MAX_BALANCE}", name=BALANCE_LIMIT_CONSTRAINT),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def available(self) -> int:
        return self.balance - self.held


class LedgerEntry(Base):
    """One immutable posting; ``version`` is the wallet's version after it."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("wallet_id", "version"),
        Index("ix_ledger_entries_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    delta: Mapped[int] = mapped_column(BigInteger)
    held_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    held_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    # bff.ledger.reasons: a message code and its parameters, shown in the reader's language.
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str | None] = mapped_column(String(255))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))
    idempotency_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("idempotency_records.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Hold(Base):
    """A reservation of points; it resolves exactly once (capture, void or expiry)."""

    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_status_expires_at", "status", "expires_at"),
        Index("ix_holds_source_type_source_id_id", "source_type", "source_id", "id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount <= captured_amount", name="refund_within_capture"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.ACTIVE)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lot(Base):
    """What is left of one accrual; spends take the soonest-expiring lots first."""

    __tablename__ = "lots"
    __table_args__ = (
        Index("ix_lots_wallet_id_expires_at", "wallet_id", "expires_at"),
        Index("ix_lots_expires_at", "expires_at"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LotTake(Base):
    """What a capture took from one lot: a refund gives it back with that lot's expiry."""

    __tablename__ = "lot_takes"
    __table_args__ = (
        CheckConstraint("returned >= 0 AND returned <= amount", name="returned_in_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyRecord(Base):
    """A claimed idempotency key with the hash of the request that claimed it; the
    entries it produced point back to it."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
