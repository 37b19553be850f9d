"""The pending queue drained by several workers at once, and the accrual arithmetic."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bff.earning.models import ExpiryPolicy, PendingAccrual, PendingStatus, RuleKind
from bff.earning.rules import expiry_for, points_for, proportional
from bff.earning.service import AccrualQueue, CompletedOrder, OrderService
from bff.kernel.types import utcnow
from bff.ledger.models import LedgerEntry, Lot
from bff.policies import Policies
from tests.fixtures.earning import hours, make_rule
from tests.ledger.invariants import check_wallet_invariants

MOSCOW = ZoneInfo("Europe/Moscow")


async def place_orders(db, settings, count: int, customers: int = 20) -> None:
    policy = Policies.from_settings(settings).earning
    for number in range(count):
        async with db.unit_of_work() as session:
            await OrderService(session, policy).complete(
                CompletedOrder(
                    external_id=f"A-{number}",
                    brand="grocery",
                    customer_external_id=f"c-{number % customers}",
                    city="moscow",
                    amount=20_000 + 2_000 * (number % 7),
                    completed_at=utcnow(),
                )
            )


async def test_two_workers_accrue_every_row_exactly_once(db, settings):
    await make_rule(db)
    await place_orders(db, settings, 240)
    later = utcnow() + hours(3)
    policy = Policies.from_settings(settings).earning

    async def worker() -> int:
        taken = 0
        while True:
            async with db.unit_of_work() as session:
                batch = await AccrualQueue(session, policy, clock=lambda: later).drain(25)
            taken += batch
            if batch == 0:
                return taken

    results = await asyncio.gather(worker(), worker())
    assert sum(results) == 240
    assert all(r > 0 for r in results), "SKIP LOCKED lets both workers take rows"
    async with db.read() as session:
        rows = (await session.scalars(select(PendingAccrual))).all()
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.source_type == "pending"))
        ).all()
        all_entries = (await session.scalars(select(LedgerEntry))).all()
    assert {row.status for row in rows} == {PendingStatus.ACCRUED}
    assert Counter(e.source_id for e in entries) == Counter(str(row.id) for row in rows)
    assert sorted(e.id for e in entries) == sorted(row.entry_id for row in rows)
    assert sum(e.delta for e in entries) == sum(row.amount for row in rows)
    for wallet_id in {e.wallet_id for e in all_entries}:
        await check_wallet_invariants(db, wallet_id)


async def test_accruals_expire_by_their_rules_policy(db, settings):
    await make_rule(db, expiry_policy=ExpiryPolicy.DAYS, expiry_days=30)
    await place_orders(db, settings, 1)
    at = utcnow() + hours(3)  # after the hold window of an order placed now
    async with db.unit_of_work() as session:
        await AccrualQueue(
            session, Policies.from_settings(settings).earning, clock=lambda: at
        ).drain(10)
    async with db.read() as session:
        lot = (await session.scalars(select(Lot))).one()
    assert lot.expires_at == at + timedelta(days=30)


@pytest.mark.parametrize(
    ("policy", "days", "expected"),
    [
        (ExpiryPolicy.NEVER, None, None),
        (ExpiryPolicy.DAYS, 90, datetime(2027, 2, 19, 21, 30, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_MONTH, None, datetime(2026, 11, 30, 20, 59, 59, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_YEAR, None, datetime(2026, 12, 31, 20, 59, 59, tzinfo=UTC)),
    ],
)
def test_expiry_policies_in_the_programs_time_zone(policy, days, expected):
    accrued = datetime(2026, 11, 21, 21, 30, tzinfo=UTC)  # already the 22nd in Moscow
    assert expiry_for(policy, days, accrued, MOSCOW) == expected


def test_end_of_month_follows_the_local_date():
    late_evening = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # December 1st in Moscow
    assert expiry_for(ExpiryPolicy.END_OF_MONTH, None, late_evening, MOSCOW) == datetime(
        2026, 12, 31, 20, 59, 59, tzinfo=UTC
    )


class _Rule:
    def __init__(self, **values):
        self.__dict__.update(values)


@pytest.mark.parametrize(
    ("rule", "amount", "bonus", "points"),
    [
        (_Rule(kind=RuleKind.PER_AMOUNT, step_amount=2000, points_per_step=1), 3999, 0, 1),
        (_Rule(kind=RuleKind.PER_AMOUNT, step_amount=2000, points_per_step=1), 4000, 500, 2),
        (_Rule(kind=RuleKind.PERCENT, percent_bp=300, level_bonus=True), 1_000_000, 100, 400),
        (_Rule(kind=RuleKind.PERCENT, percent_bp=300, level_bonus=False), 1_000_000, 100, 300),
        (_Rule(kind=RuleKind.PERCENT, percent_bp=150, level_bonus=False), 6_699, 0, 1),
    ],
)
def test_points_round_down(rule, amount, bonus, points):
    assert points_for(rule, amount, bonus) == points


def test_proportional_share_rounds_down_and_never_goes_negative():
    assert proportional(300, 1_000_000, 800_000) == 240
    assert proportional(7, 3, 1) == 2
    assert proportional(300, 1_000_000, -5) == 0
    assert proportional(300, 0, 0) == 0
