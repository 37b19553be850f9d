"""Adapters turn a partner's own event format into the universal one.

An adapter is registered under a name; a partner whose ``adapter`` names it has each
event object passed through ``to_universal`` before anything else reads it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from bff.kernel.errors import MalformedInput
from bff.partners.events import COMPLETED, PRODUCT_ACTIVATED, PRODUCT_DEACTIVATED, REVERSED

PRODUCT_KINDS = {"POLICY_ACTIVE": PRODUCT_ACTIVATED, "POLICY_ENDED": PRODUCT_DEACTIVATED}
KINDS = ("POLICY_PAID", "POLICY_CANCELLED", *PRODUCT_KINDS)


class Adapter(Protocol):
    name: str

    def to_universal(self, event: Any) -> dict[str, Any]:
        """The event in the universal format; ``MalformedInput`` names the partner's field."""


class InsurerV1:
    """An insurer's format: its own field names and money as decimal strings in rubles.

    ``{"txn": "T-1", "kind": "POLICY_PAID", "client": "cust-42", "promo": "<offer id>",
    "sum": "1500.50", "ts": "2026-11-20T10:00:00+03:00"}`` and
    ``{"txn": "T-2", "kind": "POLICY_CANCELLED", "original_txn": "T-1"}``. A policy in
    force and a policy ended (``POLICY_ACTIVE``, ``POLICY_ENDED``, with client, promo and
    ts) are its product events.
    """

    name = "insurer-v1"

    def to_universal(self, event: Any) -> dict[str, Any]:
        if not isinstance(event, dict):
            raise MalformedInput("event", "must be an object")
        kind = event.get("kind")
        if kind == "POLICY_CANCELLED":
            return {
                "id": event.get("txn"),
                "type": REVERSED,
                "refers_to": event.get("original_txn"),
                "occurred_at": event.get("ts"),
            }
        if kind in PRODUCT_KINDS:
            return {
                "id": event.get("txn"),
                "type": PRODUCT_KINDS[kind],
                "customer_id": event.get("client"),
                "offer_id": event.get("promo"),
                "occurred_at": event.get("ts"),
            }
        if kind != "POLICY_PAID":
            raise MalformedInput("kind", f"must be one of {', '.join(KINDS)}")
        return {
            "id": event.get("txn"),
            "type": COMPLETED,
            "customer_id": event.get("client"),
            "offer_id": event.get("promo"),
            "amount": rubles_to_kopecks(event.get("sum")),
            "occurred_at": event.get("ts"),
        }


def rubles_to_kopecks(value: Any) -> int:
    """'1500.50' -> 150050; more than two decimals or anything not a number is refused."""
    if not isinstance(value, str):
        raise MalformedInput("sum", 'must be a decimal string of rubles, e.g. "1500.50"')
    try:
        rubles = Decimal(value)
    except InvalidOperation as error:
        raise MalformedInput("sum", "is not a decimal number") from error
    kopecks = rubles * 100
    if not rubles.is_finite() or kopecks != kopecks.to_integral_value() or kopecks <= 0:
        raise MalformedInput("sum", "must be above zero with at most two decimals")
    return int(kopecks)


ADAPTERS: dict[str, Adapter] = {adapter.name: adapter for adapter in (InsurerV1(),)}
