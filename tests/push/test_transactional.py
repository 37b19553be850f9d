"""Transactional pushes: queued from committed rows, once per device, sent like the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bff.kernel.types import utcnow
from bff.levels.models import CustomerLevel, LevelEvent
from push.delivery import deliver
from push.models import Category, Message
from push.sender import Sender
from push.service import PreferenceService
from push.transactional import queue_transactional
from tests.fixtures.factories import accrue
from tests.fixtures.fcm import PROJECT
from tests.push.test_delivery import customer_with_device, token


@pytest.fixture
def push_settings(settings, fcm):
    return replace(settings, fcm_project_id=PROJECT, fcm_url=fcm.url)


async def queued(db) -> list[tuple[str, str]]:
    async with db.read() as session:
        rows = await session.execute(select(Message.title, Message.body).order_by(Message.id))
    return [tuple(row) for row in rows]


async def test_accruals_are_announced_once_after_commit(db, push_settings, fcm):
    now = utcnow()
    anna = await customer_with_device(db, "anna", token(1), points=0)
    boris = await customer_with_device(db, "boris", token(2), points=0, locale="ru")
    assert await queue_transactional(db, push_settings, now) == 0  # the stream starts here
    await accrue(db, anna, 50)
    await accrue(db, boris, 70)
    assert await queue_transactional(db, push_settings, now) == 2
    assert await queue_transactional(db, push_settings, now) == 0  # read again: not twice
    assert await queued(db) == [
        ("+50 points", "Your balance is 50 points."),
        ("+70 баллов", "Ваш баланс: 70 баллов."),
    ]
    sender = Sender(push_settings)
    try:
        # 12:00 in Moscow, and not before the messages were queued (a fixed hour of today
        # was in the past for half of the day, and nothing was due yet).
        noon = now.replace(hour=9, minute=0)
        noon += timedelta(days=1) if noon < now else timedelta(0)
        assert (await deliver(db, sender, push_settings, noon)).sent == 2
    finally:
        await sender.close()
    assert sorted(fcm.tokens()) == [token(1), token(2)]


async def test_customers_who_turned_transactional_pushes_off_get_none(db, push_settings):
    now = utcnow()
    anna = await customer_with_device(db, "anna", token(1), points=0)
    async with db.unit_of_work() as session:
        await PreferenceService(session).set(anna, Category.TRANSACTIONAL, False)
    await queue_transactional(db, push_settings, now)
    await accrue(db, anna, 50)
    assert await queue_transactional(db, push_settings, now) == 0


async def test_a_new_level_is_announced(db, push_settings):
    now = utcnow()
    anna = await customer_with_device(db, "anna", token(1), points=0)
    await queue_transactional(db, push_settings, now)
    async with db.unit_of_work() as session:
        session.add(LevelEvent(customer_id=anna, kind="up", from_level="BRONZE", to_level="SILVER"))
        session.add(LevelEvent(customer_id=anna, kind="postpone", to_level="SILVER"))
    assert await queue_transactional(db, push_settings, now) == 1
    assert await queued(db) == [("Welcome to Silver!", "Your new level brings new perks.")]


async def test_the_daily_run_warns_of_expiring_points_and_decay_once_a_day(db, push_settings):
    now = utcnow()
    anna = await customer_with_device(db, "anna", token(1), points=0)
    await accrue(db, anna, 40, expires_in=timedelta(days=7, hours=12))
    await accrue(db, anna, 10, expires_in=timedelta(days=30))
    boris = await customer_with_device(db, "boris", token(2), points=0)
    async with db.unit_of_work() as session:
        session.add(
            CustomerLevel(
                customer_id=boris,
                level_code="GOLD",
                completed_orders=20,
                level_since=now - timedelta(days=40),
                last_order_at=now - timedelta(days=26, hours=12),
                version=0,
                updated_at=now,
            )
        )
    # the cursors start first, then the day's run
    assert await queue_transactional(db, push_settings, now) == 2
    assert await queue_transactional(db, push_settings, now + timedelta(hours=1)) == 0
    titles = sorted(title for title, _ in await queued(db))
    assert titles == ["40 points expire soon", "Keep your Gold level"]


async def test_a_confirmed_gift_is_announced_but_a_plain_capture_is_not(db, push_settings):
    from bff.marketplace.service import RedemptionService
    from tests.fixtures.marketplace import give_coins, make_category, make_product

    now = utcnow()
    category = await make_category(db, "Pizza", price=30)
    product = await make_product(db, category)
    anna = await customer_with_device(db, "anna", token(1), points=0)
    await give_coins(db, "anna", 100)
    await queue_transactional(db, push_settings, now)
    async with db.unit_of_work() as session:
        service = RedemptionService(session, timedelta(minutes=30))
        redeemed = await service.redeem(anna, product.id, key="k", expected_version=None, city=None)
    async with db.unit_of_work() as session:
        await RedemptionService(session, timedelta(minutes=30)).confirm(redeemed.redemption.id)
    assert await queue_transactional(db, push_settings, now) == 1
    assert await queued(db) == [("Your gift is confirmed", "30 coins paid for it. Enjoy!")]
