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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow


class Platform(enum.StrEnum):
    IOS = "IOS"
    ANDROID = "ANDROID"
    WEB = "WEB"


class Category(enum.StrEnum):
    TRANSACTIONAL = "TRANSACTIONAL"
    MARKETING = "MARKETING"
    PARTNER_OFFERS = "PARTNER_OFFERS"


# What a customer gets before choosing: service messages yes, advertising only on opt-in.
DEFAULT_PREFERENCES = {
    Category.TRANSACTIONAL: True,
    Category.MARKETING: False,
    Category.PARTNER_OFFERS: False,
}


class CampaignStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    SENDING = "SENDING"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class MessageStatus(enum.StrEnum):
    PENDING = "PENDING"  # waiting for a worker (or for the morning)
    SENDING = "SENDING"  # claimed by a worker
    SENT = "SENT"
    FAILED = "FAILED"
    CAPPED = "CAPPED"  # the customer had enough marketing pushes already


class Device(Base):
    """An app installation's FCM registration token; a token belongs to one customer."""

    __tablename__ = "push_devices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token: Mapped[str] = mapped_column(String(512), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    app_version: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Preference(Base):
    __tablename__ = "push_preferences"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Segment(Base):
    """A rule over customer data, kept as data (see push.segments)."""

    __tablename__ = "push_segments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    __tablename__ = "push_campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[int] = mapped_column(ForeignKey("push_segments.id"))
    category: Mapped[str] = mapped_column(String(32))
    # {"en": {"title": ..., "body": ...}, "ru": {...}}: sandboxed Jinja2 templates
    templates: Mapped[dict[str, Any]] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.SCHEDULED)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    quiet_start_minute: Mapped[int] = mapped_column(Integer, default=22 * 60)
    quiet_end_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    cap_per_day: Mapped[int | None] = mapped_column(Integer)
    cap_per_week: Mapped[int | None] = mapped_column(Integer)
    targeted: Mapped[int] = mapped_column(Integer, default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slowdowns: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """One push to one device: each device gets at most one per campaign."""

    __tablename__ = "push_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "device_id"),
        Index("ix_push_messages_due", "status", "not_before"),
        Index("ix_push_messages_customer_sent", "customer_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("push_campaigns.id"))
    kind: Mapped[str] = mapped_column(String(32))  # campaign category or transactional kind
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("push_devices.id"))
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[bool] = mapped_column(Boolean, default=False)  # waited for quiet hours
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # transactional details
    # transactional: "<source>:<device>", so a source event is queued once per device
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fcm_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cursor(Base):
    """How far the transactional notifier has read a stream (or that a daily run happened)."""

    __tablename__ = "push_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    floor: Mapped[int] = mapped_column(BigInteger, default=0)  # where the stream began
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
