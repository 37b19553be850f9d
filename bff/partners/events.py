"""The universal partner event format, and reading a request body into events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bff.kernel.errors import MalformedInput, refuse_nul, text_field
from bff.kernel.types import utcnow

# A partner's clock may run a little ahead of ours; an event dated further on is an error
# (it would otherwise judge the offer's window at a time that has not come).
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

MAX_BATCH = 1000
COMPLETED, REVERSED = "offer.completed", "offer.reversed"
PRODUCT_ACTIVATED, PRODUCT_DEACTIVATED = "product.activated", "product.deactivated"
PRODUCT_EVENTS = (PRODUCT_ACTIVATED, PRODUCT_DEACTIVATED)
TYPES = (COMPLETED, REVERSED, *PRODUCT_EVENTS)


@dataclass(frozen=True)
class PartnerEventIn:
    """One event in the universal format; ``raw`` is what the partner sent for it."""

    id: str
    type: str
    raw: dict[str, Any]
    customer_id: str | None = None
    offer_id: str | None = None
    amount: int | None = None
    occurred_at: datetime | None = None
    refers_to: str | None = None


@dataclass(frozen=True)
class Invalid:
    """An event that could not be read; it is still stored and answered with the field."""

    id: str | None
    raw: Any
    error: MalformedInput


def read_body(body: bytes) -> tuple[list[Any], bool]:
    """The event objects in a body (one event, or ``{"events": [...]}``) and whether it
    was a batch."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedInput("body", "not valid JSON") from error
    if isinstance(data, dict) and "events" in data:
        events = data["events"]
        if not isinstance(events, list) or not 0 < len(events) <= MAX_BATCH:
            raise MalformedInput("events", f"must be a list of 1 to {MAX_BATCH} events")
        return events, True
    if not isinstance(data, dict):
        raise MalformedInput("body", 'must be an event object or {"events": [...]}')
    return [data], False


def parse_event(data: Any) -> PartnerEventIn:
    if not isinstance(data, dict):
        raise MalformedInput("event", "must be an object")
    refuse_nul(data)
    event_id = text_field(data, "id", 128)
    event_type = text_field(data, "type", 32)
    if event_type == REVERSED:
        return PartnerEventIn(
            event_id,
            event_type,
            data,
            refers_to=text_field(data, "refers_to", 128),
            occurred_at=_time(data, optional=True),
        )
    if event_type in PRODUCT_EVENTS:  # the customer's partner product changed state
        return PartnerEventIn(
            event_id,
            event_type,
            data,
            customer_id=text_field(data, "customer_id", 255),
            offer_id=text_field(data, "offer_id", 128),
            occurred_at=_time(data),
        )
    if event_type != COMPLETED:
        raise MalformedInput("type", f"must be one of {', '.join(TYPES)}")
    amount = data.get("amount")
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= 10**12
    ):
        raise MalformedInput("amount", "must be a whole number of kopecks above zero")
    return PartnerEventIn(
        event_id,
        event_type,
        data,
        customer_id=text_field(data, "customer_id", 255),
        offer_id=text_field(data, "offer_id", 128),
        amount=amount,
        occurred_at=_time(data),
    )


def _time(data: dict[str, Any], *, optional: bool = False) -> datetime | None:
    value = data.get("occurred_at")
    if value is None and optional:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise MalformedInput("occurred_at", "must be an ISO 8601 time with a zone")
    if parsed > utcnow() + FUTURE_TOLERANCE:
        raise MalformedInput("occurred_at", "is in the future")
    if parsed < EARLIEST:
        raise MalformedInput("occurred_at", "is before the program existed")
    return parsed
