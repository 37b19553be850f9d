"""Segment rules against data: each rule, their combinations, and rules that are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bff.earning.models import Order
from bff.kernel.types import utcnow
from bff.levels.models import CustomerLevel
from push.models import Platform
from push.segments import RuleError, compile_rule
from push.service import InvalidRule, SegmentService
from tests.fixtures.factories import accrue
from tests.fixtures.partners import activate, make_offer, make_partner
from tests.push.test_delivery import customer_with_device, token


@pytest.fixture
async def people(db, settings):
    """anna: Kazan, 500 points, GOLD, pizza 40 days ago, points expiring in 3 days, iOS,
    opted in. boris: Moscow, 50 points, sushi yesterday, Android, not opted in, offer
    activated. olga: no city, 0 points, no device."""
    from bff.customers.models import Customer
    from bff.kernel.secrets import SecretBox

    now = utcnow()
    anna = await customer_with_device(db, "anna", token(1), points=0, platform=Platform.IOS)
    await accrue(db, anna, 500, expires_in=timedelta(days=3))
    boris = await customer_with_device(db, "boris", token(2), points=50, opt_in=False)
    olga = await customer_with_device(db, "olga", token(3), points=0, opt_in=False)
    partner = await make_partner(db, SecretBox.from_settings(settings))
    offer = await make_offer(db, partner)
    await activate(db, offer, "boris")
    async with db.unit_of_work() as session:
        for pk, city in ((anna, "Kazan"), (boris, "Moscow")):
            (await session.get(Customer, pk)).city = city
        session.add(
            CustomerLevel(
                customer_id=anna,
                level_code="GOLD",
                completed_orders=20,
                level_since=now,
                version=0,
                updated_at=now,
            )
        )
        for pk, brand, days in ((anna, "pizza", 40), (boris, "sushi", 1)):
            session.add(
                Order(
                    external_id=f"o-{pk}",
                    brand=brand,
                    customer_id=pk,
                    amount=1000,
                    completed_at=now - timedelta(days=days),
                )
            )
    async with db.unit_of_work() as session:  # olga has no device
        from sqlalchemy import delete

        from push.models import Device

        await session.execute(delete(Device).where(Device.customer_id == olga))
    return {"offer": offer.id}


async def who(db, rule) -> list[str]:
    async with db.read() as session:
        preview = await SegmentService(session).preview(rule, 50)
    assert preview.size == len(preview.sample)
    return [customer.external_id for customer in preview.sample]


async def test_each_rule_selects_the_right_customers(db, people):
    assert await who(db, {"balance": {"currency": "POINTS", "min": 100}}) == ["anna"]
    assert await who(db, {"balance": {"currency": "POINTS", "max": 60}}) == ["boris", "olga"]
    assert await who(db, {"level": ["GOLD", "PLATINUM"]}) == ["anna"]
    assert await who(db, {"city": ["Kazan", "Perm"]}) == ["anna"]
    assert await who(db, {"brand": ["sushi"]}) == ["boris"]
    assert await who(db, {"daysSinceLastOrder": {"min": 30}}) == ["anna"]
    assert await who(db, {"daysSinceLastOrder": {"max": 7}}) == ["boris"]
    assert await who(db, {"pointsExpiringWithinDays": 7}) == ["anna"]
    assert await who(db, {"pointsExpiringWithinDays": 1}) == []
    assert await who(db, {"activatedOffer": people["offer"]}) == ["boris"]
    assert await who(db, {"platform": ["IOS"]}) == ["anna"]
    assert await who(db, {"platform": ["ANDROID"]}) == ["boris"]
    assert await who(db, {"marketingOptIn": True}) == ["anna"]
    assert await who(db, {"marketingOptIn": False}) == ["boris", "olga"]


async def test_rules_combine(db, people):
    either = {"or": [{"city": ["Kazan"]}, {"brand": ["sushi"]}]}
    assert await who(db, either) == ["anna", "boris"]
    assert await who(db, {"and": [either, {"not": {"marketingOptIn": True}}]}) == ["boris"]
    assert await who(db, {"not": either}) == ["olga"]


def deep_not(levels: int) -> dict:
    rule: dict = {"city": ["a"]}
    for _ in range(levels):
        rule = {"not": rule}
    return rule


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({}, ""),
        ({"city": ["Kazan"], "level": ["GOLD"]}, ""),
        ({"nonsense": 1}, ""),
        ({"and": []}, "and"),
        ({"and": [{"city": "Kazan"}]}, "and[0].city"),
        ({"balance": {"currency": "POINTS"}}, "balance"),
        ({"balance": {"currency": "POINTS", "min": "10"}}, "balance.min"),
        ({"balance": {"currency": "POINTS", "min": 10, "max": 5}}, "balance"),
        ({"platform": ["BLACKBERRY"]}, "platform"),
        ({"pointsExpiringWithinDays": 0}, "pointsExpiringWithinDays"),
        ({"marketingOptIn": "yes"}, "marketingOptIn"),
        (deep_not(10), "not.not.not.not.not.not.not.not.not"),
    ],
)
def test_invalid_rules_say_where(rule, where):
    with pytest.raises(RuleError) as raised:
        compile_rule(rule, utcnow())
    assert raised.value.path == where


async def test_the_service_turns_rule_errors_into_a_typed_error(db):
    async with db.read() as session:
        with pytest.raises(InvalidRule) as raised:
            await SegmentService(session).preview({"city": 1}, 10)
    assert "city" in raised.value.params["reason"]
