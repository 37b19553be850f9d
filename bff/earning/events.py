"""Parsing the ordering system's events; every refusal names the field at fault."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bff.earning.service import CompletedOrder
from bff.kernel.errors import MalformedInput, json_object, text_field
from bff.kernel.global_ids import MAX_PK

ORDER_TYPES = ("order.completed", "order.cancelled", "order.refunded")
REDEMPTION_TYPES = ("redemption.confirmed", "redemption.cancelled")  # marketplace gifts
EVENT_TYPES = ORDER_TYPES + REDEMPTION_TYPES
MAX_AMOUNT = 10**12  # kopecks
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class OrderEventIn:
    id: str
    type: str
    raw: dict[str, Any]
    brand: str
    order_id: str
    completed: CompletedOrder | None = None
    refund_amount: int | None = None
    redemption_id: str | None = None  # global id, for redemption.* events


def parse_order_event(body: bytes, now: datetime) -> OrderEventIn:
    data = json_object(body)
    event_id = text_field(data, "id", 128)
    event_type = text_field(data, "type", 32)
    if event_type not in EVENT_TYPES:
        raise MalformedInput("type", f"must be one of {', '.join(EVENT_TYPES)}")
    if event_type in REDEMPTION_TYPES:
        redemption = data.get("redemption")
        if not isinstance(redemption, dict):
            raise MalformedInput("redemption", "must be an object with the redemption's id")
        redemption_id = text_field(redemption, "id", 128, "redemption.")
        return OrderEventIn(event_id, event_type, data, "", "", redemption_id=redemption_id)
    order = data.get("order")
    if not isinstance(order, dict):
        raise MalformedInput("order", "must be an object")
    brand, order_id = (
        text_field(order, "brand", 64, "order."),
        text_field(order, "id", 128, "order."),
    )
    completed, refund_amount = None, None
    if event_type == "order.completed":
        completed = _completed(order, brand, order_id, now)
    elif event_type == "order.refunded":
        refund = data.get("refund")
        if not isinstance(refund, dict):
            raise MalformedInput("refund", "must be an object with an amount")
        refund_amount = _amount(refund, "amount", "refund.")
    return OrderEventIn(event_id, event_type, data, brand, order_id, completed, refund_amount)


def _completed(order: dict[str, Any], brand: str, order_id: str, now: datetime) -> CompletedOrder:
    customer = text_field(order, "customer_id", 255, "order.")
    amount = _amount(order, "amount", "order.")
    completed_at = _datetime(order, "completed_at", "order.")
    if completed_at > now + FUTURE_TOLERANCE:
        raise MalformedInput("order.completed_at", "is in the future")
    items = order.get("items")
    if items is not None and not isinstance(items, list):
        raise MalformedInput("order.items", "must be a list")
    city = order.get("city")
    if city is not None and (not isinstance(city, str) or not 0 < len(city) <= 64):
        raise MalformedInput("order.city", "must be a string of 1 to 64 characters")
    return CompletedOrder(
        external_id=order_id,
        brand=brand,
        customer_external_id=customer,
        city=city,
        amount=amount,
        completed_at=completed_at,
        items=items,
        points_hold_id=_hold_id(order.get("points_hold_id")),
    )


def _hold_id(value: Any) -> int | None:
    """The checkout hold whose points paid part of the order, if any."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PK:
        raise MalformedInput("order.points_hold_id", "must be a hold id the checkout gave")
    return value


def _amount(data: dict[str, Any], key: str, prefix: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise MalformedInput(prefix + key, "must be a whole number of kopecks above zero")
    return value


def _datetime(data: dict[str, Any], key: str, prefix: str) -> datetime:
    value = data.get(key)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise MalformedInput(prefix + key, "must be an ISO 8601 time with a zone")
    return parsed
