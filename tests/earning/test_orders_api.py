"""`POST /api/orders/events`: signatures, validation, idempotency, the queue's effects."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bff.customers.models import Customer
from bff.earning.models import Order, OrderEvent, PendingAccrual
from bff.earning.service import AccrualQueue
from bff.kernel.types import utcnow
from bff.ledger.models import LedgerEntry, Wallet
from bff.policies import Policies
from tests.fixtures.earning import (
    cancelled,
    completed,
    hours,
    make_rule,
    percent_rule,
    refunded,
    send,
)


async def count(db, model) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def balances(db) -> dict[str, int]:
    async with db.read() as session:
        return dict((await session.execute(select(Wallet.currency, Wallet.balance))).all())


async def drain(db, settings, at) -> int:
    async with db.unit_of_work() as session:
        return await AccrualQueue(
            session, Policies.from_settings(settings).earning, clock=lambda: at
        ).drain(500)


async def test_completed_order_waits_then_accrues_once(app_client, db, settings):
    await make_rule(db)
    event = completed("evt-1", "A-1", 250_000)
    first = await send(app_client, event)
    assert first.status_code == 200
    assert first.json()["accruals"][0] | {"due_at": None} == {
        "currency": "COINS",
        "amount": 125,
        "due_at": None,
        "reason": "1 coin per 20 rubles",
    }
    again = await send(app_client, event)
    assert again.json() == {"status": "duplicate", "outcome": "applied"}
    assert (await count(db, Order), await count(db, PendingAccrual)) == (1, 1)
    assert await drain(db, settings, utcnow() + hours(1)) == 0  # still inside the window
    assert await drain(db, settings, utcnow() + hours(2.1)) == 1
    assert await drain(db, settings, utcnow() + hours(3)) == 0
    assert await balances(db) == {"COINS": 125}


async def test_cancel_inside_the_window_accrues_nothing(app_client, db, settings):
    await make_rule(db)
    await send(app_client, completed("evt-1", "A-1", 250_000))
    response = await send(app_client, cancelled("evt-2", "A-1"))
    assert response.json()["status"] == "applied"
    assert await drain(db, settings, utcnow() + hours(3)) == 0
    assert await balances(db) == {}


async def test_refunds_before_and_after_accrual_take_back_the_refunded_share(
    app_client, db, settings
):
    await make_rule(db, **percent_rule(code="cashback", level_bonus=False))  # 3 %
    await send(app_client, completed("evt-1", "A-1", 1_000_000))  # 10,000 rubles -> 300
    await send(app_client, refunded("evt-2", "A-1", 200_000))  # before accrual -> 240
    await drain(db, settings, utcnow() + hours(3))
    assert await balances(db) == {"POINTS": 240}
    await send(app_client, refunded("evt-3", "A-1", 300_000))  # after: keep 500,000 -> 150
    assert await balances(db) == {"POINTS": 150}
    too_much = await send(app_client, refunded("evt-4", "A-1", 500_001))
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "REFUND_EXCEEDS_ORDER"
    await send(app_client, cancelled("evt-5", "A-1"))
    assert await balances(db) == {"POINTS": 0}


async def test_a_refund_after_spending_records_the_shortfall(app_client, db, settings):
    await make_rule(db, **percent_rule(code="cashback", level_bonus=False))
    await send(app_client, completed("evt-1", "A-1", 1_000_000))
    await drain(db, settings, utcnow() + hours(3))
    async with db.unit_of_work() as session:
        from bff.ledger.service import LedgerService, Source

        await LedgerService(session).spend(1, "POINTS", 250, reason="Gift", source=Source("t"))
    await send(app_client, cancelled("evt-2", "A-1"))  # owes 300, only 50 is left
    async with db.read() as session:
        row = (await session.scalars(select(PendingAccrual))).one()
    assert (row.reversed_amount, row.shortfall) == (50, 250)
    assert await balances(db) == {"POINTS": 0}


async def test_late_events_use_the_rules_valid_when_the_order_completed(app_client, db, settings):
    three_days_ago = utcnow() - timedelta(days=3)
    await make_rule(db, "old", valid_to=utcnow() - timedelta(days=1))
    await make_rule(db, "new", valid_from=utcnow() - timedelta(days=1), points_per_step=10)
    response = await send(app_client, completed("evt-1", "A-1", 40_000, at=three_days_ago))
    assert [a["amount"] for a in response.json()["accruals"]] == [20]
    assert await drain(db, settings, utcnow()) == 1  # the hold window passed long ago


async def test_unknown_customer_is_created_with_the_order_city(app_client, db):
    await send(app_client, completed("evt-1", "A-1", 1_000, customer="new-one", city="kazan"))
    async with db.read() as session:
        customer = (await session.scalars(select(Customer))).one()
    assert (customer.external_id, customer.city) == ("new-one", "kazan")


async def test_an_order_id_seen_before_is_ignored(app_client, db):
    await make_rule(db)
    await send(app_client, completed("evt-1", "A-1", 40_000))
    response = await send(app_client, completed("evt-2", "A-1", 90_000))
    assert response.json()["status"] == "ignored"
    assert response.json()["reason"] == "ORDER_EXISTS"
    assert await count(db, PendingAccrual) == 1


async def test_events_for_unknown_orders_are_refused_and_can_come_again(app_client, db):
    response = await send(app_client, cancelled("evt-9", "nope"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "ORDER_NOT_FOUND"
    assert await count(db, OrderEvent) == 0


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        ({"signature": "sha256=" + "0" * 64}, "SIGNATURE_INVALID"),
        ({"secret": "someone-else"}, "SIGNATURE_INVALID"),
        ({"timestamp": int(time.time()) - 400}, "TIMESTAMP_OUT_OF_WINDOW"),
        ({"timestamp": int(time.time()) + 400}, "TIMESTAMP_OUT_OF_WINDOW"),
    ],
)
async def test_bad_signatures_are_401_and_store_nothing(app_client, db, mutate, code):
    response = await send(app_client, completed("evt-1", "A-1", 1_000), **mutate)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert (await count(db, OrderEvent), await count(db, Order)) == (0, 0)


async def test_missing_signature_headers_are_401(app_client):
    response = await app_client.post("/api/orders/events", json=completed("e", "A", 1))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "SIGNATURE_MISSING"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        ({"id": "e", "type": "order.shipped", "order": {}}, "type"),
        ({"type": "order.completed"}, "id"),
        (
            {"id": "e", "type": "order.completed", "order": {"id": "A", "brand": "b"}},
            "order.customer_id",
        ),
        (
            {
                **completed("e", "A", 1),
                "order": {**completed("e", "A", 1)["order"], "amount": "10"},
            },
            "order.amount",
        ),
        (
            {**completed("e", "A", 1), "order": {**completed("e", "A", 1)["order"], "amount": -5}},
            "order.amount",
        ),
        (
            {
                **completed("e", "A", 1),
                "order": {**completed("e", "A", 1)["order"], "completed_at": "2026-01-01T10:00:00"},
            },
            "order.completed_at",
        ),
        (
            {
                **completed("e", "A", 1),
                "order": {
                    **completed("e", "A", 1)["order"],
                    "completed_at": "2999-01-01T10:00:00+00:00",
                },
            },
            "order.completed_at",
        ),
        ({"id": "e", "type": "order.refunded", "order": {"id": "A", "brand": "b"}}, "refund"),
    ],
)
async def test_malformed_bodies_are_400_naming_the_field(app_client, db, body, field):
    response = await send(app_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert (await count(db, OrderEvent), await count(db, LedgerEntry)) == (0, 0)


async def test_unsigned_when_no_secret_is_configured(settings, db):
    from dataclasses import replace

    import httpx

    from bff.app import create_app

    app = create_app(replace(settings, orders_hmac_secret=""))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await send(client, completed("e", "A", 1))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_CONFIGURED"


async def test_several_rules_apply_to_one_order_each_within_its_limits(app_client, db, settings):
    await make_rule(db)  # coins everywhere
    await make_rule(db, **percent_rule(code="cashback", level_bonus=False))
    await make_rule(db, "kazan-only", title="Kazan launch", points_per_step=5, cities=["kazan"])
    await make_rule(db, "pizza-only", title="Pizza", brand="pizza")
    response = await send(app_client, completed("evt-1", "A-1", 100_000, city="moscow"))
    accruals = {(a["currency"], a["reason"]): a["amount"] for a in response.json()["accruals"]}
    assert accruals == {("COINS", "1 coin per 20 rubles"): 50, ("POINTS", "Cashback"): 30}
    await drain(db, settings, utcnow() + hours(3))
    async with db.read() as session:
        reasons = sorted((await session.scalars(select(LedgerEntry.reason))).all())
    assert reasons == ["1 coin per 20 rubles", "Cashback"]  # each entry names its rule
