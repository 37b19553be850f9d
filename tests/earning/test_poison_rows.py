"""A row the ledger refuses never stops the accrual queue: it is set aside with its error,
for staff, while the rest posts; an order that would make such a row is refused at the
door."""

from __future__ import annotations

from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

from bff.earning.events import MAX_AMOUNT as MAX_ORDER_AMOUNT
from bff.earning.models import Order, OrderEvent, PendingAccrual, PendingStatus
from bff.kernel.auth import Role
from bff.kernel.types import utcnow
from bff.ledger.models import Currency, Wallet
from bff.ledger.service import MAX_AMOUNT as MAX_POSTING
from bff.policies import Policies
from bff.worker import JobReport, drain_accruals
from tests.fixtures.earning import completed, hours, make_rule, percent_rule, send
from tests.fixtures.graphql import error_codes, gql, token
from tests.ledger.invariants import check_wallet_invariants

SET_ASIDE = """query($after: String) { setAsideAccruals(first: 1, after: $after) {
  edges { node {
    id customerId brand orderId currency amount { amount } reason failure setAsideAt } }
  pageInfo { hasNextPage endCursor } } }"""


def later():
    return utcnow() + hours(3)  # past every order's hold window


async def balances(db) -> dict[tuple[int, str], int]:
    async with db.read() as session:
        rows = await session.execute(select(Wallet.customer_id, Wallet.currency, Wallet.balance))
    return {(customer, currency): balance for customer, currency, balance in rows}


def set_aside_count() -> float:
    return REGISTRY.get_sample_value("bff_queue_rows_set_aside_total", {"queue": "accruals"}) or 0


async def test_an_order_whose_accrual_the_ledger_could_never_post_is_refused(app_client, db):
    await make_rule(db, "cashback", **percent_rule(percent_bp=10_000, level_bonus=False))
    biggest = MAX_POSTING * 100  # kopecks whose 100 % is exactly the posting limit
    assert biggest < MAX_ORDER_AMOUNT  # the order API alone would let more through
    over = await send(app_client, completed("evt-big", "A-big", biggest + 100))
    assert over.status_code == 422
    error = over.json()["error"]
    assert error["code"] == "ACCRUAL_OVER_LIMIT"
    assert error["details"] == {"rule": "cashback", "points": MAX_POSTING + 1, "limit": MAX_POSTING}
    async with db.read() as session:
        stored = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Order, OrderEvent, PendingAccrual)
        ]
    assert stored == [0, 0, 0]  # nothing half-done: the sender may retry once rules change

    at_limit = await send(app_client, completed("evt-max", "A-max", biggest))
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json()["accruals"][0]["amount"] == MAX_POSTING


async def test_a_poisoned_row_is_set_aside_and_the_rest_of_its_batch_posts(
    app_client, db, settings
):
    await make_rule(db)  # COINS, one per 20 rubles
    await make_rule(db, "cashback", **percent_rule(level_bonus=False))  # POINTS, 3 %
    for n, customer in enumerate(["anna", "boris", "vera"]):
        response = await send(app_client, completed(f"e-{n}", f"A-{n}", 100_000, customer=customer))
        assert response.status_code == 200
    async with db.unit_of_work() as session:  # switched off after the orders came in
        await session.execute(
            update(Currency).where(Currency.code == "POINTS").values(enabled=False)
        )
    before = set_aside_count()

    report = JobReport()
    policy = Policies.from_settings(settings).earning
    await drain_accruals(db, policy, 500, report, clock=later)
    assert (report.failures, report.accrued) == (0, 6)

    async with db.read() as session:
        rows = (await session.scalars(select(PendingAccrual).order_by(PendingAccrual.id))).all()
    statuses = [(row.currency, row.status) for row in rows]
    assert sorted(set(statuses)) == [
        ("COINS", PendingStatus.ACCRUED),
        ("POINTS", PendingStatus.SET_ASIDE),
    ]
    assert all(
        row.failure.startswith("CURRENCY_DISABLED") for row in rows if row.currency == "POINTS"
    )
    assert set_aside_count() == before + 3
    coins = {
        customer: balance
        for (customer, currency), balance in (await balances(db)).items()
        if currency == "COINS"
    }
    assert sorted(coins.values()) == [50, 50, 50]
    for row in rows:
        if row.entry_id is not None:
            async with db.read() as session:
                wallet = await session.scalar(
                    select(Wallet.id).where(
                        Wallet.customer_id == row.customer_id, Wallet.currency == row.currency
                    )
                )
            await check_wallet_invariants(db, wallet)

    # Set aside, they are not taken again: the next round has nothing to do.
    again = JobReport()
    await drain_accruals(db, policy, 500, again, clock=later)
    assert (again.accrued, again.failures) == (0, 0)


async def test_staff_see_set_aside_rows_and_customers_do_not(app_client, db, settings):
    await make_rule(db, "cashback", **percent_rule(level_bonus=False))
    for n in range(2):
        await send(app_client, completed(f"e-{n}", f"A-{n}", 100_000, customer="anna"))
    async with db.unit_of_work() as session:
        await session.execute(
            update(Currency).where(Currency.code == "POINTS").values(enabled=False)
        )
    await drain_accruals(
        db, Policies.from_settings(settings).earning, 500, JobReport(), clock=later
    )

    support = token(settings, "agent", Role.SUPPORT)
    first = await gql(app_client, SET_ASIDE, bearer=support)
    page = first["data"]["setAsideAccruals"]
    node = page["edges"][0]["node"]
    assert (node["brand"], node["orderId"], node["currency"], node["amount"]) == (
        "grocery",
        "A-1",
        "POINTS",
        {"amount": 30},
    )
    assert node["failure"].startswith("CURRENCY_DISABLED: ")
    assert page["pageInfo"]["hasNextPage"] is True
    second = await gql(
        app_client, SET_ASIDE, {"after": page["pageInfo"]["endCursor"]}, bearer=support
    )
    assert second["data"]["setAsideAccruals"]["edges"][0]["node"]["orderId"] == "A-0"

    customer = await gql(app_client, SET_ASIDE, bearer=token(settings, "anna"))
    assert error_codes(customer) == ["FORBIDDEN"]
    anonymous = await gql(app_client, SET_ASIDE)
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
