"""Column types and small value helpers shared by every domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

BigId = BigInteger()


class UTCDateTime(TypeDecorator[datetime]):
    """``timestamptz`` that refuses naive datetimes on the way in and answers in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Window:
    """A page of a statement: rows after ``after_id``, made from ``since`` to before
    ``until`` (either open), at most ``limit`` of them."""

    after_id: int = 0
    limit: int = 100
    since: datetime | None = None
    until: datetime | None = None
