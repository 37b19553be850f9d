"""Levels (data), each customer's standing, and the events of level changes."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from bff.customers import models as _customers  # noqa: F401 - registers the FK target
from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow


class LevelCode(enum.StrEnum):
    """The program's levels, lowest first: the rows of ``levels`` are these."""

    BRONZE = "BRONZE"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class Level(Base):
    __tablename__ = "levels"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    name_en: Mapped[str] = mapped_column(String(64))
    name_ru: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[int] = mapped_column(Integer)  # completed orders to reach it
    cashback_bonus_bp: Mapped[int] = mapped_column(Integer, default=0)
    reward_currency: Mapped[str | None] = mapped_column(String(16))
    reward_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # once, on first reach
    perks: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_floor: Mapped[bool] = mapped_column(Boolean, default=False)  # never decays below


class CustomerLevel(Base):
    __tablename__ = "customer_levels"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    level_code: Mapped[str] = mapped_column(ForeignKey("levels.code"))
    floor_code: Mapped[str | None] = mapped_column(ForeignKey("levels.code"))
    completed_orders: Mapped[int] = mapped_column(Integer, default=0)
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level_since: Mapped[datetime] = mapped_column(UTCDateTime)
    postponed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LevelEvent(Base):
    """A level change, reward or postponement, kept like a ledger entry."""

    __tablename__ = "level_events"
    # Analysts read movements by time (levelMovements, export level-movements).
    __table_args__ = (Index("ix_level_events_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # up, down, postpone, reward, backfill
    from_level: Mapped[str | None] = mapped_column(String(32))
    to_level: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LevelReward(Base):
    """A one-time reward granted; the unique key makes a second grant impossible."""

    __tablename__ = "level_rewards"
    __table_args__ = (UniqueConstraint("customer_id", "level_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    level_code: Mapped[str] = mapped_column(ForeignKey("levels.code"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MovementReason(enum.StrEnum):
    """Why a customer's level changed (or its decay moved): the kinds of ``LevelEvent``
    that are movements (a reward is not)."""

    ORDER = "up"
    DECAY = "down"
    POSTPONEMENT = "postpone"
    RESET = "reset"  # the order count started again after a long gap
    BACKFILL = "backfill"
