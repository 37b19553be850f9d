"""Balances stay within GraphQL's Int: the ledger refuses a credit past MAX_BALANCE, on
every path, and what the API sums never passes it."""

from __future__ import annotations

from sqlalchemy import func, select

from bff.earning.models import PendingAccrual, PendingStatus
from bff.kernel.auth import Role
from bff.ledger.models import MAX_BALANCE, LedgerEntry, Wallet
from bff.ledger.service import MAX_AMOUNT
from bff.policies import Policies
from bff.worker import JobReport, drain_accruals
from tests.earning.test_poison_rows import later
from tests.fixtures.earning import completed, make_rule, percent_rule, send
from tests.fixtures.factories import make_customer
from tests.fixtures.graphql import gql, token
from tests.ledger.invariants import check_wallet_invariants
from tests.ledger.test_mutations import ADJUST, adjust_input, stored

ME = "{ me { wallets { currency balance available pending } } }"


def points(me: dict) -> dict:
    [wallet] = [w for w in me["data"]["me"]["wallets"] if w["currency"] == "POINTS"]
    return wallet


async def adjust(client, settings, customer_id: int, amount: int, key: str) -> dict:
    staff = token(settings, "olga", Role.SUPPORT)
    body = await gql(
        client, ADJUST, adjust_input(customer_id, amount=amount, idempotencyKey=key), bearer=staff
    )
    return body["data"]["balanceAdjust"]


async def test_staff_adjustments_stop_at_the_limit_and_me_still_answers(app_client, settings, db):
    customer = await make_customer(db, "anna")
    full_postings = MAX_BALANCE // MAX_AMOUNT
    for n in range(full_postings):
        assert (await adjust(app_client, settings, customer.id, MAX_AMOUNT, f"k-{n}"))[
            "userErrors"
        ] == []
    before = await stored(db)
    over = await adjust(app_client, settings, customer.id, MAX_AMOUNT, "one-too-many")
    assert over["userErrors"] == [
        {
            "code": "BALANCE_LIMIT",
            "field": ["input", "amount"],
            "message": f"This would take the wallet above its limit of {MAX_BALANCE} points.",
        }
    ]
    assert await stored(db) == before  # nothing posted, nothing half-done

    rest = MAX_BALANCE - full_postings * MAX_AMOUNT
    assert (await adjust(app_client, settings, customer.id, rest, "to-the-brim"))[
        "userErrors"
    ] == []
    me = await gql(app_client, ME, bearer=token(settings, "anna"))
    assert "errors" not in me
    assert points(me) == {
        "currency": "POINTS",
        "balance": MAX_BALANCE,
        "available": MAX_BALANCE,
        "pending": 0,
    }
    async with db.read() as session:
        wallet = await session.scalar(select(Wallet.id))
    await check_wallet_invariants(db, wallet)


async def test_the_queue_sets_aside_an_accrual_past_the_limit(app_client, settings, db):
    await make_rule(db, "cashback", **percent_rule(percent_bp=10_000, level_bonus=False))
    for n, customer in enumerate(["anna", "boris"]):
        response = await send(
            app_client, completed(f"e-{n}", f"A-{n}", MAX_AMOUNT * 100, customer=customer)
        )
        assert response.status_code == 200
    async with db.read() as session:
        anna = await session.scalar(
            select(PendingAccrual.customer_id).where(PendingAccrual.order_id == 1)
        )
    for n in range(MAX_BALANCE // MAX_AMOUNT):  # Anna's wallet near the top
        await adjust(app_client, settings, anna, MAX_AMOUNT, f"k-{n}")

    report = JobReport()
    await drain_accruals(db, Policies.from_settings(settings).earning, 500, report, clock=later)
    assert (report.accrued, report.failures) == (2, 0)
    async with db.read() as session:
        rows = {row.customer_id: row for row in await session.scalars(select(PendingAccrual))}
        balances = dict((await session.execute(select(Wallet.customer_id, Wallet.balance))).all())
        entries = await session.scalar(select(func.count(LedgerEntry.id)))
    assert rows[anna].status == PendingStatus.SET_ASIDE
    assert rows[anna].failure.startswith("BALANCE_LIMIT")
    boris = next(customer for customer in rows if customer != anna)
    assert rows[boris].status == PendingStatus.ACCRUED
    assert balances == {anna: (MAX_BALANCE // MAX_AMOUNT) * MAX_AMOUNT, boris: MAX_AMOUNT}
    assert entries == MAX_BALANCE // MAX_AMOUNT + 1


async def test_pending_sums_never_pass_what_an_int_holds(app_client, settings, db):
    await make_rule(db, "cashback", **percent_rule(percent_bp=10_000, level_bonus=False))
    waiting = MAX_BALANCE // MAX_AMOUNT + 2
    for n in range(waiting):
        response = await send(app_client, completed(f"e-{n}", f"A-{n}", MAX_AMOUNT * 100))
        assert response.status_code == 200
    async with db.read() as session:
        total = await session.scalar(select(func.sum(PendingAccrual.amount)))
    assert total > MAX_BALANCE
    me = await gql(app_client, ME, bearer=token(settings, "anna"))
    assert "errors" not in me
    assert points(me)["pending"] == MAX_BALANCE
