from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bff.kernel.db import Base
from bff.kernel.types import UTCDateTime, utcnow


class PersistedQuery(Base):
    """A query document known by its SHA-256, shared by every process.

    Apps register documents themselves (automatic persisted queries); ``allowed`` marks
    the ones the operator registered, the only ones that run in allow-list mode.
    """

    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    operation_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
