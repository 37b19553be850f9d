"""Levels by a rolling window: only the orders since the customer's last gap of more than
`BFF_LEVEL_RESET_DAYS` without one count, and decay, postponement and floors work on top.

The last test drives the live service with random orders, gaps, postponements and the
worker's daily decay round, and after every step compares it with a reference model of
the README's rules written here, independently of the service."""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bff.earning.service import CompletedOrder, OrderService
from bff.kernel.errors import DomainError
from bff.kernel.types import utcnow
from bff.levels.models import CustomerLevel, LevelEvent
from bff.levels.service import LevelPolicy, LevelService
from tests.fixtures.factories import make_customer

POLICY = LevelPolicy(decay_days=30, postpone_days=30, reset_days=30)
NUMBERS = itertools.count()
DAY = timedelta(days=1)


async def order(db, external_id: str, at: datetime, *, number: str | None = None) -> str:
    number = number or f"W-{next(NUMBERS)}"
    async with db.unit_of_work() as session:
        await OrderService(session, clock=lambda: at).complete(
            CompletedOrder(
                external_id=number,
                brand="pizza",
                customer_external_id=external_id,
                city=None,
                amount=1_000,
                completed_at=at,
            )
        )
    return number


async def cancel(db, number: str, at: datetime) -> None:
    async with db.unit_of_work() as session:
        await OrderService(session, clock=lambda: at).cancel("pizza", number)


async def decay(db, customer_id: int, at: datetime) -> str | None:
    async with db.unit_of_work() as session:
        dropped = await LevelService(session, POLICY, clock=lambda: at).decay(customer_id)
    return dropped.code if dropped else None


async def standing(db, customer_id: int, at: datetime):
    async with db.read() as session:
        service = LevelService(session, POLICY, clock=lambda: at)
        return service.describe(
            await service.ladder(), await service.repository.standing(customer_id)
        )


async def event_kinds(db, customer_id: int) -> list[str]:
    async with db.read() as session:
        rows = await session.scalars(
            select(LevelEvent.kind)
            .where(LevelEvent.customer_id == customer_id)
            .order_by(LevelEvent.id)
        )
        return list(rows)


async def test_a_decayed_customer_does_not_get_the_level_back_with_one_order(db):
    customer = await make_customer(db, "anna")
    start = utcnow() - timedelta(days=60)
    for _ in range(5):
        await order(db, "anna", start)
    assert (await standing(db, customer.id, start)).level.code == "SILVER"
    assert await decay(db, customer.id, start + 31 * DAY) == "BRONZE"
    idle = await standing(db, customer.id, start + 35 * DAY)
    assert (idle.level.code, idle.completed_orders) == ("BRONZE", 0)  # the gap reset it

    await order(db, "anna", start + 40 * DAY)
    after = await standing(db, customer.id, start + 40 * DAY)
    assert (after.level.code, after.completed_orders) == ("BRONZE", 1)
    assert await event_kinds(db, customer.id) == ["reward", "up", "down", "reset"]


async def test_a_late_order_inside_a_gap_joins_the_two_windows(db):
    customer = await make_customer(db, "boris")
    start = utcnow() - timedelta(days=50)
    for _ in range(2):
        await order(db, "boris", start)
    for _ in range(2):
        await order(db, "boris", start + 40 * DAY)
    assert (await standing(db, customer.id, start + 40 * DAY)).completed_orders == 2
    await order(db, "boris", start + 20 * DAY)  # reported late: no gap is over 30 days now
    joined = await standing(db, customer.id, start + 40 * DAY)
    assert (joined.level.code, joined.completed_orders) == ("SILVER", 5)


async def test_a_cancelled_order_leaves_the_window(db):
    customer = await make_customer(db, "vera")
    now = utcnow()
    numbers = [await order(db, "vera", now) for _ in range(3)]
    await cancel(db, numbers[1], now)
    assert (await standing(db, customer.id, now)).completed_orders == 2
    async with db.read() as session:
        row = await session.get(CustomerLevel, customer.id)
    assert row.last_order_at == now


async def test_an_order_racing_the_decay_round_leaves_a_consistent_level(db):
    """The worker's decay and a new order lock the same row; whichever goes first, the
    level, the count and the recorded movements agree with each other."""
    start = utcnow() - timedelta(days=40)
    outcomes = set()
    for round_ in range(6):
        name = f"race-{round_}"
        customer = await make_customer(db, name)
        for _ in range(5):
            await order(db, name, start)
        moment = start + 31 * DAY
        await asyncio.gather(decay(db, customer.id, moment), order(db, name, moment))
        final = await standing(db, customer.id, moment)
        kinds = await event_kinds(db, customer.id)
        async with db.read() as session:
            row = await session.get(CustomerLevel, customer.id)
        assert row.completed_orders == 1  # the 31-day gap started the count again
        assert row.last_order_at == moment
        if "down" in kinds:  # the decay went first: Bronze, and no decay is due now
            assert (final.level.code, kinds[-2:]) == ("BRONZE", ["down", "reset"])
        else:  # the order went first: it restarted the decay clock
            assert (final.level.code, kinds[-1]) == ("SILVER", "reset")
            assert final.decay_at == moment + 30 * DAY
        outcomes.add(final.level.code)
    assert outcomes <= {"BRONZE", "SILVER"}


# --- the reference model ------------------------------------------------------------------

LADDER = [("BRONZE", 0, True), ("SILVER", 5, False), ("GOLD", 15, True), ("PLATINUM", 40, False)]


@dataclass
class Model:
    """The README's rules, by the letter."""

    level: int = 0
    floor: int = 0
    count: int = 0
    last: datetime | None = None
    since: datetime | None = None
    postponed: datetime | None = None
    seen: set[str] = field(default_factory=set)  # which rules took effect

    def order(self, at: datetime) -> None:
        if self.last is not None and at - self.last > timedelta(days=30):
            self.count = 0
            self.seen.add("reset")
        self.count += 1
        self.last = at
        earned = max(i for i, (_, threshold, _) in enumerate(LADDER) if threshold <= self.count)
        if earned > self.level:
            self.seen.add("up")
            self.level, self.since, self.postponed = earned, at, None
            self.floor = max([self.floor] + [i for i in range(earned + 1) if LADDER[i][2]])

    def decay_at(self) -> datetime | None:
        if self.level == self.floor:
            return None
        if self.postponed is not None:
            return self.postponed
        anchor = max(moment for moment in (self.last, self.since) if moment is not None)
        return anchor + timedelta(days=30)

    def tick(self, now: datetime) -> None:
        due = self.decay_at()
        if due is not None and due <= now:
            self.seen.add("down")
            self.level, self.since, self.postponed = self.level - 1, now, None

    def postpone(self) -> bool:
        due = self.decay_at()
        if due is None or self.postponed is not None:
            return False
        self.postponed = due + timedelta(days=30)
        self.seen.add("postpone")
        return True

    def counting(self, now: datetime) -> int:
        if self.last is not None and now - self.last > timedelta(days=30):
            return 0
        return self.count


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_histories_follow_the_reference_model(db, seed):
    rng = random.Random(seed)
    name = f"model-{seed}"
    customer = await make_customer(db, name)
    model = Model()
    day0 = utcnow().replace(microsecond=0) - timedelta(days=400)
    for day in range(0, 300):
        now = day0 + day * DAY
        # Busy spells and long quiet ones, so that every rule gets its turn.
        busy = (day // 45) % 2 == 0
        for _ in range(rng.choice([1, 1, 2]) if busy and rng.random() < 0.25 else 0):
            await order(db, name, now)
            model.order(now)
        if rng.random() < 0.05:
            try:
                async with db.unit_of_work() as session:
                    await LevelService(session, POLICY, clock=lambda now=now: now).postpone(
                        customer.id
                    )
                postponed = True
            except DomainError:
                postponed = False
            assert postponed == model.postpone(), day
        await decay(db, customer.id, now)  # the worker's round of the day
        model.tick(now)
        live = await standing(db, customer.id, now)
        expected = (LADDER[model.level][0], model.counting(now), model.decay_at())
        assert (live.level.code, live.completed_orders, live.decay_at) == expected, day
    assert model.seen == {"up", "down", "reset", "postpone"}  # the history tried every rule


@pytest.mark.parametrize("seed", [4, 5])
async def test_backfill_gives_what_the_live_rules_gave(db, seed):
    rng = random.Random(seed)
    live, past = await make_customer(db, f"live-{seed}"), await make_customer(db, f"past-{seed}")
    day0 = utcnow().replace(microsecond=0) - timedelta(days=300)
    for day in range(250):
        now = day0 + day * DAY
        if (day // 40) % 2 == 0 and rng.random() < 0.3:
            await order(db, live.external_id, now)
            async with db.unit_of_work() as session:
                await OrderService(session).repository.insert_order(
                    {
                        "external_id": f"past-{next(NUMBERS)}",
                        "brand": "old",
                        "status": "completed",
                        "customer_id": past.id,
                        "amount": 1_000,
                        "refunded_amount": 0,
                        "completed_at": now,
                    }
                )
        await decay(db, live.id, now)
    end = day0 + 249 * DAY
    async with db.unit_of_work() as session:
        service = LevelService(session, POLICY, clock=lambda: end)
        history = [h for h in await OrderService(session).order_history(0, 1000) if h[0] == past.id]
        await service.backfill_batch(await service.ladder(), history, dry_run=False)
    async with db.read() as session:
        rows = {row.customer_id: row for row in await session.scalars(select(CustomerLevel))}
    after_live, after_backfill = await standing(db, live.id, end), await standing(db, past.id, end)
    assert (rows[past.id].level_code, rows[past.id].floor_code) == (
        rows[live.id].level_code,
        rows[live.id].floor_code,
    )
    assert after_backfill.completed_orders == after_live.completed_orders
    assert await event_kinds(db, past.id) in (["backfill"], [])
    assert {"up", "down", "reset"} <= set(await event_kinds(db, live.id))  # rules at work
