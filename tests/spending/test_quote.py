"""`POST /api/checkout/quote`: what may pay an order and what it would earn, signed, with
no side effect; its preview agrees with what `order.completed` then accrues."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bff.earning.models import Order, PendingAccrual
from bff.kernel.auth import Role
from bff.ledger.models import LedgerEntry
from tests.fixtures.earning import ORDERS_SECRET, completed, make_rule, percent_rule, send
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, token
from tests.spending.test_spending import SET

QUOTE = "/api/checkout/quote"


async def quote(client, payload, secret: str = ORDERS_SECRET):
    return await send(client, payload, secret=secret, path=QUOTE)


def order(amount: int, customer: str = "anna", brand: str = "grocery") -> dict:
    return {
        "customer_id": customer,
        "brand": brand,
        "city": "moscow",
        "order": {"id": "A-1", "amount": amount},
    }


async def counts(db) -> tuple[int, ...]:
    async with db.read() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(m))
                for m in (Order, PendingAccrual, LedgerEntry)
            ]
        )


async def test_a_quote_says_what_may_pay_and_previews_what_the_order_earns(
    app_client, settings, db
):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 400, expires_in=timedelta(days=3))
    await make_rule(db)  # 1 coin per 20 rubles
    await make_rule(db, "cashback", **percent_rule())  # 3 % plus the level's bonus
    rule = {"currency": "POINTS", "kopecksPerPoint": 100, "maxShareBasisPoints": 3000}
    await gql(app_client, SET, {"input": rule}, bearer=token(settings, "olga", Role.ADMIN))
    before = await counts(db)

    answer = await quote(app_client, order(250_000))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["available"], body["spendable"]) == (
        400,
        {"points": 400, "value": 40_000, "reason": "BALANCE"},
    )
    assert body["soonest_expiry"]["amount"] == 400
    preview = sorted((a["currency"], a["amount"]) for a in body["accruals"])
    assert await counts(db) == before  # a quote writes nothing

    done = await send(app_client, completed("evt-1", "A-1", 250_000))
    accrued = sorted((a["currency"], a["amount"]) for a in done.json()["accruals"])
    assert preview == accrued == [("COINS", 125), ("POINTS", 75)]


async def test_bad_quotes_are_refused_with_the_field_at_fault(app_client, db):
    await make_customer(db, "anna")
    for payload, field in [
        ({**order(100), "order": {"id": "A-1", "amount": 0}}, "order.amount"),
        ({**order(100), "order": {"id": "A-1", "amount": 2**63}}, "order.amount"),
        ({**order(100), "order": {"id": "A-1", "amount": "100"}}, "order.amount"),
        ({**order(100), "order": None}, "order"),
        ({**order(100), "customer_id": ""}, "customer_id"),
        ({**order(100), "city": 7}, "city"),
    ]:
        response = await quote(app_client, payload)
        assert (response.status_code, response.json()["error"]["field"]) == (400, field)
    unknown = await quote(app_client, order(100, customer="nobody"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "CUSTOMER_NOT_FOUND")
    forged = await quote(app_client, order(100), secret="guess")
    assert forged.status_code == 401
