"""``DateTime`` as strawberry has it, but refusing what PostgreSQL's timestamps (and
Python's) cannot hold: a time that falls outside them is a bad input, not a 500."""

from __future__ import annotations

from datetime import UTC, datetime

from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

EARLIEST_YEAR, LATEST_YEAR = 1900, 9000


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    try:
        in_utc = parsed.astimezone(UTC) if parsed.tzinfo else parsed
    except OverflowError as error:
        raise ValueError(f"{value} is out of range") from error
    if not EARLIEST_YEAR <= in_utc.year <= LATEST_YEAR:
        raise ValueError(f"years {EARLIEST_YEAR} to {LATEST_YEAR} only")
    return parsed


BOUNDED_DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
    serialize=DateTimeDefinition.serialize,
    parse_value=wrap_parser(parse_datetime, "DateTime"),
    parse_literal=None,
    origin=datetime,
)
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: BOUNDED_DATETIME}
