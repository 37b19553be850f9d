"""Levels: climbing, one-time rewards, decay with floors, postponement, backfill."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bff.customers.models import Customer
from bff.earning.service import CompletedOrder, OrderService
from bff.kernel.types import utcnow
from bff.ledger.models import LedgerEntry
from bff.levels.models import CustomerLevel, LevelEvent, LevelReward
from bff.levels.service import AlreadyPostponed, LevelPolicy, LevelService, NothingToPostpone
from bff.policies import Policies
from tests.fixtures.factories import make_customer

POLICY = LevelPolicy(decay_days=30, postpone_days=30)


ORDER_NUMBERS = itertools.count()


async def orders(db, customer_id: int, count: int, *, at=None) -> None:
    """``count`` orders of the customer through the ordering system's path."""
    async with db.read() as session:
        external_id = (await session.get(Customer, customer_id)).external_id
    for _ in range(count):
        async with db.unit_of_work() as session:
            await OrderService(session).complete(
                CompletedOrder(
                    external_id=f"L-{next(ORDER_NUMBERS)}",
                    brand="pizza",
                    customer_external_id=external_id,
                    city=None,
                    amount=1_000,
                    completed_at=at or utcnow(),
                )
            )


async def old_orders(db, customer: str, count: int, at=None) -> None:
    """Orders from before the program: in the history, never through the live rules."""
    for _ in range(count):
        async with db.unit_of_work() as session:
            service = OrderService(session)
            await service.repository.insert_order(
                {
                    "external_id": f"old-{next(ORDER_NUMBERS)}",
                    "brand": "old",
                    "status": "completed",
                    "customer_id": (await service.customers.ensure(customer)).id,
                    "amount": 1000,
                    "refunded_amount": 0,
                    "completed_at": at or utcnow(),
                }
            )


async def standing(db, customer_id: int, *, now=None):
    async with db.read() as session:
        service = LevelService(session, POLICY, clock=(lambda: now) if now else utcnow)
        ladder = await service.ladder()
        return service.describe(ladder, await service.repository.standing(customer_id))


async def reward_entries(db) -> list[tuple[str, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(LedgerEntry.source_id, LedgerEntry.delta).where(
                LedgerEntry.source_type == "level"
            )
        )
        return sorted(rows.all())


async def test_climbing_grants_each_reward_once(db):
    customer = await make_customer(db)
    await orders(db, customer.id, 4)
    assert (await standing(db, customer.id)).level.code == "BRONZE"
    await orders(db, customer.id, 1)
    silver = await standing(db, customer.id)
    assert (silver.level.code, silver.next_level.code, silver.completed_orders) == (
        "SILVER",
        "GOLD",
        5,
    )
    await orders(db, customer.id, 10)
    assert (await standing(db, customer.id)).level.code == "GOLD"
    assert await reward_entries(db) == [("GOLD", 1000), ("SILVER", 500)]


async def test_a_jump_over_levels_grants_every_reward_crossed(db):
    customer = await make_customer(db, "jumper")
    await old_orders(db, "jumper", 14)  # known to the window, never counted live
    await orders(db, customer.id, 1)
    assert await reward_entries(db) == [("GOLD", 1000), ("SILVER", 500)]


async def test_one_time_reward_is_granted_once_under_concurrent_orders(db, settings):
    customer = await make_customer(db, "busy")
    await orders(db, customer.id, 3)
    policy = Policies.from_settings(settings).earning

    async def order(number: int) -> None:
        async with db.unit_of_work() as session:
            await OrderService(session, policy).complete(
                CompletedOrder(
                    external_id=f"O-{number}",
                    brand="pizza",
                    customer_external_id="busy",
                    city=None,
                    amount=50_000,
                    completed_at=utcnow(),
                )
            )

    await asyncio.gather(*(order(n) for n in range(10)))  # all race across Silver's 5
    assert await reward_entries(db) == [("SILVER", 500)]
    async with db.read() as session:
        assert await session.scalar(select(func.count(LevelReward.id))) == 1
        row = await session.get(CustomerLevel, customer.id)
    assert (row.completed_orders, row.level_code) == (13, "SILVER")


async def test_decay_drops_one_level_after_inactivity_and_stops_at_a_floor(db):
    customer = await make_customer(db)
    start = utcnow()
    await orders(db, customer.id, 40, at=start)  # PLATINUM; GOLD is the floor reached
    for days, expected in [(29, None), (31, "GOLD"), (80, None)]:
        async with db.unit_of_work() as session:
            moment = start + timedelta(days=days)
            service = LevelService(session, POLICY, clock=lambda moment=moment: moment)
            dropped = await service.decay(customer.id)
        assert (dropped.code if dropped else None) == expected, days
    final = await standing(db, customer.id, now=start + timedelta(days=80))
    assert (final.level.code, final.decay_at, final.can_postpone) == ("GOLD", None, False)


async def test_decay_goes_one_level_per_period_down_to_the_lowest_floor(db):
    customer = await make_customer(db)
    start = utcnow()
    await orders(db, customer.id, 5, at=start)  # SILVER, floor BRONZE
    day_31 = start + timedelta(days=31)
    async with db.unit_of_work() as session:
        service = LevelService(session, POLICY, clock=lambda: day_31)
        assert await service.decay_candidates(10) == [customer.id]
        assert (await service.decay(customer.id)).code == "BRONZE"
    async with db.read() as session:
        events = (await session.scalars(select(LevelEvent.kind).order_by(LevelEvent.id))).all()
    assert events == ["reward", "up", "down"]


async def test_postponing_moves_decay_a_month_once_per_level_period(db):
    customer = await make_customer(db)
    start = utcnow()
    await orders(db, customer.id, 5, at=start)
    before = await standing(db, customer.id)
    async with db.unit_of_work() as session:
        after = await LevelService(session, POLICY).postpone(customer.id)
    assert after.decay_at == before.decay_at + timedelta(days=30)
    assert after.can_postpone is False
    with pytest.raises(AlreadyPostponed):
        async with db.unit_of_work() as session:
            await LevelService(session, POLICY).postpone(customer.id)
    day_31 = start + timedelta(days=31)
    async with db.unit_of_work() as session:
        assert await LevelService(session, POLICY, clock=lambda: day_31).decay(customer.id) is None
    day_61 = start + timedelta(days=61)
    async with db.unit_of_work() as session:
        dropped = await LevelService(session, POLICY, clock=lambda: day_61).decay(customer.id)
    assert dropped.code == "BRONZE"


async def test_nothing_to_postpone_at_a_floor(db):
    customer = await make_customer(db)
    await orders(db, customer.id, 1)
    with pytest.raises(NothingToPostpone):
        async with db.unit_of_work() as session:
            await LevelService(session, POLICY).postpone(customer.id)


async def test_an_order_restarts_the_decay_clock(db):
    customer = await make_customer(db)
    start = utcnow()
    await orders(db, customer.id, 5, at=start)
    await orders(db, customer.id, 1, at=start + timedelta(days=20))
    day_31 = start + timedelta(days=31)
    async with db.unit_of_work() as session:
        assert await LevelService(session, POLICY, clock=lambda: day_31).decay(customer.id) is None
    assert (await standing(db, customer.id)).decay_at == start + timedelta(days=50)


async def test_backfill_assigns_levels_from_order_history(db, settings):
    for customer, count in [("a", 2), ("b", 6), ("c", 16)]:
        await old_orders(db, customer, count)
    async with db.unit_of_work() as session:
        service = LevelService(session, POLICY)
        ladder = await service.ladder()
        history = await OrderService(session).order_history(0, 100)
        preview = await service.backfill_batch(ladder, history, dry_run=True)
    assert preview == {"BRONZE": 1, "SILVER": 1, "GOLD": 1}
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(CustomerLevel)) == 0
    async with db.unit_of_work() as session:
        history = await OrderService(session).order_history(0, 100)
        await LevelService(session, POLICY).backfill_batch(ladder, history, dry_run=False)
    async with db.read() as session:
        rows = (
            await session.scalars(select(CustomerLevel).order_by(CustomerLevel.customer_id))
        ).all()
    assert [(r.level_code, r.completed_orders, r.floor_code) for r in rows] == [
        ("BRONZE", 2, "BRONZE"),
        ("SILVER", 6, "BRONZE"),
        ("GOLD", 16, "GOLD"),
    ]
    assert await reward_entries(db) == []
