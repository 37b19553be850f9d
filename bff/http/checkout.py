"""``POST /api/checkout/quote``: before a till or the ordering system takes points for an
order, how many may pay it and why, what the order would earn, and what expires soonest.
Signed like the order events; nothing is written."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.customers.service import CustomerService
from bff.earning.rules import OrderFacts
from bff.earning.service import OrderService
from bff.http.common import Refusal, signed_body
from bff.kernel.config import Settings
from bff.kernel.errors import MalformedInput, json_object
from bff.kernel.types import utcnow
from bff.ledger.service import LedgerService
from bff.levels.service import LevelService
from bff.policies import Policies
from bff.spending.service import MAX_ORDER_KOPECKS, SpendingService

CURRENCY = "POINTS"


async def checkout_quote(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    policies: Policies = request.app.state.policies
    body = await signed_body(request, settings.orders_hmac_secret)
    subject, facts, order_id = _quote_request(json_object(body))
    async with request.app.state.db.read() as session:
        customer = await CustomerService(session).find(subject)
        if customer is None:
            raise Refusal(404, "CUSTOMER_NOT_FOUND", "no customer has this id")
        standing = await LevelService(session, policies.levels).standing_of(customer.id)
        spend = await SpendingService(session).for_order(
            customer.id, CURRENCY, facts.brand, facts.amount, standing.level.code
        )
        ledger = LedgerService(session)
        wallets = [w for w in await ledger.wallets_of([customer.id]) if w.currency == CURRENCY]
        expiring = await ledger.soonest_expiry(wallets[0].id) if wallets else None
        earnings = await OrderService(session, policies.earning).preview(subject, facts)
    return JSONResponse(
        {
            "order_id": order_id,
            "customer_id": subject,
            "currency": CURRENCY,
            "available": sum(w.balance - w.held for w in wallets),
            "spendable": {
                "points": spend.points,
                "value": spend.value_kopecks,
                "reason": spend.limit,
            },
            "accruals": [
                {"currency": e.rule.currency, "amount": e.points, "reason": e.rule.title}
                for e in earnings
            ],
            "soonest_expiry": (
                {"amount": expiring[0], "at": expiring[1].isoformat()} if expiring else None
            ),
        }
    )


def _quote_request(data: dict[str, Any]) -> tuple[str, OrderFacts, str]:
    subject = _string(data, "customer_id", 255)
    brand = _string(data, "brand", 64)
    city = data.get("city")
    if city is not None and (not isinstance(city, str) or not 0 < len(city) <= 64):
        raise MalformedInput("city", "must be a string of 1 to 64 characters")
    order = data.get("order")
    if not isinstance(order, dict):
        raise MalformedInput("order", "must be an object with the order's id and amount")
    order_id = _string(order, "id", 128, "order.")
    amount = order.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MalformedInput("order.amount", "must be a whole number of kopecks")
    if not 0 < amount <= MAX_ORDER_KOPECKS:
        raise MalformedInput("order.amount", "must be a whole number of kopecks above zero")
    return subject, OrderFacts(brand, city, amount, utcnow()), order_id


def _string(data: dict[str, Any], key: str, limit: int, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise MalformedInput(prefix + key, f"must be a string of 1 to {limit} characters")
    return value
