"""The coin marketplace: gift categories with a price, their products, the stop-list,
and customers' redemptions (a hold until the ordering system confirms or cancels)."""

from __future__ import annotations

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
from bff.ledger import models as _ledger  # noqa: F401 - registers the FK targets

EVERYWHERE = "*"  # stop-list scope that covers every city


class Category(Base):
    """Any product of a category can be taken for the category's price."""

    __tablename__ = "marketplace_categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )  # other languages
    image_url: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    price: Mapped[int] = mapped_column(BigInteger)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Product(Base):
    __tablename__ = "marketplace_products"
    __table_args__ = (Index("ix_marketplace_products_category_id_id", "category_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("marketplace_categories.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )  # other languages
    image_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StopListEntry(Base):
    """A product taken off temporarily, in one city or everywhere (scope ``*``)."""

    __tablename__ = "marketplace_stop_list"
    __table_args__ = (UniqueConstraint("product_id", "scope"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("marketplace_products.id"))
    scope: Mapped[str] = mapped_column(String(64))  # a city, or EVERYWHERE
    reason: Mapped[str] = mapped_column(String(500))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until lifted
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Redemption(Base):
    """A gift taken for coins. Its state is its hold's: active until the ordering system
    confirms (capture) or cancels (void) it, or it expires and the coins come back."""

    __tablename__ = "marketplace_redemptions"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_marketplace_redemptions_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("marketplace_products.id"))
    currency: Mapped[str] = mapped_column(String(16))
    price: Mapped[int] = mapped_column(BigInteger)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
