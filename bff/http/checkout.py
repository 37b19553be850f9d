"""The checkout API of tills and the ordering system, signed like the order events:
``quote`` (how many points may pay an order and why, what it would earn, what expires
soonest; nothing is written), ``holds`` (hold points to pay it), and a hold's ``capture``
and ``void`` when the order settles without an ``order.completed`` naming the hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.customers.models import Customer
from bff.customers.service import CustomerService
from bff.earning.rules import OrderFacts
from bff.earning.service import OrderService
from bff.http.common import Refusal, hold_id_in_path, signed_body
from bff.kernel.config import Settings
from bff.kernel.errors import MalformedInput, json_object, text_field
from bff.kernel.global_ids import MAX_PK
from bff.kernel.types import utcnow
from bff.ledger.service import IdempotencyKey, LedgerService
from bff.levels.service import LevelService
from bff.policies import Policies
from bff.spending.codes import CheckoutCodes
from bff.spending.service import MAX_ORDER_KOPECKS, OrderRef, SpendingService

CURRENCY = "POINTS"


async def checkout_quote(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    policies: Policies = request.app.state.policies
    data = json_object(await signed_body(request, settings.orders_hmac_secret))
    facts, order_id = _quote_request(data)
    async with request.app.state.db.read() as session:
        customer = await _customer(request, session, data)
        subject = customer.external_id
        standing = await LevelService(session, policies.levels).standing_of(customer.id)
        ledger = LedgerService(session)
        wallets = [w for w in await ledger.wallets_of([customer.id]) if w.currency == CURRENCY]
        available = sum(w.balance - w.held for w in wallets)
        spend = await SpendingService(session).for_order(
            customer.id,
            CURRENCY,
            facts.brand,
            facts.amount,
            standing.level.code,
            available=available,
        )
        expiring = await ledger.soonest_expiry(wallets[0].id) if wallets else None
        earnings = await OrderService(session, policies.earning).preview(
            subject, customer.id, facts, standing.level
        )
    return JSONResponse(
        {
            "order_id": order_id,
            "customer_id": subject,
            "currency": CURRENCY,
            "available": available,
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


async def checkout_hold(request: Request) -> JSONResponse:
    """Hold points to pay part of an order, at most what the quote allows, once per
    idempotency key; the order's completion (`order.completed` naming the hold) captures
    them, its cancellation releases them, and unresolved they expire."""
    settings: Settings = request.app.state.settings
    policies: Policies = request.app.state.policies
    data = json_object(await signed_body(request, settings.orders_hmac_secret))
    facts, order_id = _quote_request(data)
    points = _points(data)
    key = text_field(data, "idempotency_key", 255)
    async with request.app.state.db.read() as session:
        customer = await _customer(request, session, data)
        standing = await LevelService(session, policies.levels).standing_of(customer.id)
        allowed = await SpendingService(session).for_order(
            customer.id, CURRENCY, facts.brand, facts.amount, standing.level.code
        )
    async with request.app.state.db.unit_of_work() as session:
        if isinstance(code := data.get("checkout_code"), str):
            # A payment spends the code; the read above only opened it.
            await CheckoutCodes(request.app.state.secret_box).customer_of(session, code, use=True)
        held, payment = await SpendingService(session).hold_for_order(
            OrderRef(customer.id, facts.brand, order_id, facts.amount),
            points,
            allowed,
            ttl=timedelta(seconds=settings.checkout_hold_seconds),
            idempotency=IdempotencyKey("checkout", key),
        )
    return JSONResponse(
        {
            "hold_id": held.hold.id,
            "order_id": order_id,
            "points": payment.points,
            "value": payment.value_kopecks,
            "expires_at": held.hold.expires_at.isoformat(),
            "replayed": held.replayed,
        },
        status_code=200 if held.replayed else 201,
    )


async def checkout_capture(request: Request) -> JSONResponse:
    """Take all or part of a checkout hold (``points``, or all of it when absent)."""
    return await _settle(request, capture=True)


async def checkout_void(request: Request) -> JSONResponse:
    """Give the held points back: the order will not be paid with them."""
    return await _settle(request, capture=False)


async def _settle(request: Request, *, capture: bool) -> JSONResponse:
    settings: Settings = request.app.state.settings
    body = await signed_body(request, settings.orders_hmac_secret)
    data = json_object(body) if body.strip() else {}
    hold_id = hold_id_in_path(request)
    points = _points(data) if capture and "points" in data else None
    async with request.app.state.db.unit_of_work() as session:
        spending = SpendingService(session)
        payment = await spending.payment(hold_id)
        if payment is None:
            raise Refusal(404, "UNKNOWN_HOLD", "no checkout hold has this id")
        if capture:
            result = await spending.capture(payment, points)
        else:
            result = await spending.void(payment)
    hold = result.hold
    return JSONResponse(
        {
            "hold_id": hold.id,
            "order_id": payment.order_id,
            "status": hold.status,
            "points": hold.amount,
            "value": payment.value_kopecks,
            "captured_points": hold.captured_amount,
            "captured_value": payment.value_of(hold.captured_amount),
            "refunded_points": hold.refunded_amount or 0,
        }
    )


def _points(data: dict[str, Any]) -> int:
    points = data.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_PK:
        raise MalformedInput("points", "must be a whole number of points above zero")
    return points


async def _customer(request: Request, session: AsyncSession, data: dict[str, Any]) -> Customer:
    """The customer named by `customer_id`, or by the `checkout_code` the app showed
    (read, not spent)."""
    customers = CustomerService(session)
    code = data.get("checkout_code")
    if code is None:
        customer = await customers.find(text_field(data, "customer_id", 255))
    elif isinstance(code, str):
        codes = CheckoutCodes(request.app.state.secret_box)
        customer_id = await codes.customer_of(session, code, use=False)
        customer = await customers.find_by_id(customer_id)
    else:
        raise MalformedInput("checkout_code", "must be the code the app showed")
    if customer is None:
        raise Refusal(404, "CUSTOMER_NOT_FOUND", "no customer has this id")
    return customer


def _quote_request(data: dict[str, Any]) -> tuple[OrderFacts, str]:
    brand = text_field(data, "brand", 64)
    city = data.get("city")
    if city is not None and (not isinstance(city, str) or not 0 < len(city) <= 64):
        raise MalformedInput("city", "must be a string of 1 to 64 characters")
    order = data.get("order")
    if not isinstance(order, dict):
        raise MalformedInput("order", "must be an object with the order's id and amount")
    order_id = text_field(order, "id", 128, "order.")
    amount = order.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MalformedInput("order.amount", "must be a whole number of kopecks")
    if not 0 < amount <= MAX_ORDER_KOPECKS:
        raise MalformedInput("order.amount", "must be a whole number of kopecks above zero")
    return OrderFacts(brand, city, amount, utcnow()), order_id
