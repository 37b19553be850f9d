from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bff.kernel.db import Base
from bff.kernel.types import BigId, UTCDateTime, utcnow


class Customer(Base):
    """A program member, known by the identity provider's subject (``external_id``)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(64))  # from the latest order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
