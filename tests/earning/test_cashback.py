"""The cashback percentage: the brand's rule, the level's bonus and the boosts of partner
products, within the program's cap; partners report products with signed events, in any
order; an order takes the percentage of the moment it completed."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bff.customers.models import Customer
from bff.earning.cashback import CashbackService
from bff.earning.models import PendingAccrual, RuleKind
from bff.earning.repository import EarningRepository
from bff.earning.rule_service import RuleDraft, RuleService
from bff.earning.service import CompletedOrder, OrderService
from bff.kernel.auth import Role
from bff.kernel.secrets import SecretBox
from bff.kernel.types import utcnow
from bff.levels.service import LevelService
from bff.partners.boosts import BoostService
from bff.partners.models import Partner
from push.models import Message
from push.transactional import queue_transactional
from tests.fixtures.graphql import error_codes, gql, token
from tests.fixtures.partners import activate, make_offer, make_partner, offer_gid, post_signed
from tests.partners.test_catalogue import create_offer, create_partner
from tests.push.test_delivery import customer_with_device
from tests.spending.test_quote import order, quote

NUMBERS = itertools.count()
CASHBACK = """query C($brand: String!) { me { cashback(brand: $brand) {
  brand percent cap breakdown { kind source percent until }
  nextBoost { partner { code } offer { title } percent } } } }"""
CAP = """mutation S($input: CashbackCapSetInput!) { cashbackCapSet(input: $input) {
  cap { brand maxPercentBasisPoints updatedBy } userErrors { code field } } }"""


@pytest.fixture
async def program(db, settings):
    """Grocery's 3 % rule that takes the bonus; a bank whose card adds 2 % while active
    and an insurer whose policy adds 1 % for 90 days; Anna opted into the card's offer."""
    async with db.unit_of_work() as session:
        await RuleService(session).create(
            RuleDraft(
                code="grocery-cashback",
                title="Grocery cashback",
                currency="POINTS",
                kind=RuleKind.PERCENT,
                brand="grocery",
                percent_bp=300,
                level_bonus=True,
                valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                texts={"ru": {"title": "Кешбэк в продуктах"}},
            ),
            actor="test",
        )
    box = SecretBox.from_settings(settings)
    bank = await make_partner(db, box, code="bank", name="North Bank")
    card = await make_offer(db, bank, title="Debit card", boost_bp=200)
    insurer = await make_partner(db, box, code="insurer", name="Insurer")
    policy = await make_offer(db, insurer, title="Travel policy", boost_bp=100, boost_days=90)
    await activate(db, card, "anna")
    return card, policy, bank


def product(event_id: str, offer, state: str, at: datetime, customer: str = "anna") -> dict:
    return {
        "id": event_id,
        "type": f"product.{state}",
        "customer_id": customer,
        "offer_id": offer_gid(offer),
        "occurred_at": at.isoformat(),
    }


async def report(app_client, partner: str, *events) -> list[dict]:
    response = await post_signed(
        app_client, f"/api/partners/{partner}/events", {"events": list(events)}
    )
    assert response.status_code == 200, response.text
    return [(r["status"], r.get("code")) for r in response.json()["results"]]


async def order_points(db, at: datetime, amount: int = 100_000) -> int:
    """Points an order of Anna's at grocery earns (1,000 rubles by default)."""
    number = f"G-{next(NUMBERS)}"
    async with db.unit_of_work() as session:
        await OrderService(session).complete(
            CompletedOrder(
                external_id=number,
                brand="grocery",
                customer_external_id="anna",
                city=None,
                amount=amount,
                completed_at=at,
            )
        )
    async with db.read() as session:
        rows = await session.scalars(select(PendingAccrual.computed_amount))
        return list(rows)[-1]


async def test_a_partner_product_raises_the_percentage_while_it_is_active(
    app_client, settings, db, program
):
    card, _, _ = program
    anna = token(settings, "anna")
    before = (await gql(app_client, CASHBACK, {"brand": "grocery"}, bearer=anna))["data"]
    assert before["me"]["cashback"]["percent"] == 3.0
    assert before["me"]["cashback"]["nextBoost"] == {
        "partner": {"code": "bank"},
        "offer": {"title": "Debit card"},
        "percent": 2.0,
    }
    start = utcnow() - timedelta(hours=1)
    assert await report(app_client, "bank", product("p1", card, "activated", start)) == [
        ("applied", "BOOST_STARTED")
    ]
    body = await gql(
        app_client, CASHBACK, {"brand": "grocery"}, bearer=anna, headers={"accept-language": "ru"}
    )
    cashback = body["data"]["me"]["cashback"]
    assert cashback["percent"] == 5.0
    assert cashback["breakdown"] == [
        {"kind": "BASE", "source": "Кешбэк в продуктах", "percent": 3.0, "until": None},
        {
            "kind": "PARTNER_BOOST",
            "source": "North Bank: Debit card",
            "percent": 2.0,
            "until": None,
        },
    ]
    assert cashback["nextBoost"]["offer"] == {"title": "Travel policy"}  # the card is had
    assert await order_points(db, utcnow()) == 50  # 5 % of 1,000 rubles

    admin = token(settings, "boss", Role.ADMIN)
    capped = await gql(
        app_client, CAP, {"input": {"brand": "grocery", "maxPercentBasisPoints": 400}}, bearer=admin
    )
    assert capped["data"]["cashbackCapSet"] == {
        "cap": {"brand": "grocery", "maxPercentBasisPoints": 400, "updatedBy": "boss"},
        "userErrors": [],
    }
    after = (await gql(app_client, CASHBACK, {"brand": "grocery"}, bearer=anna))["data"]
    assert (after["me"]["cashback"]["percent"], after["me"]["cashback"]["cap"]) == (4.0, 4.0)
    assert await order_points(db, utcnow()) == 40

    assert await report(app_client, "bank", product("p2", card, "deactivated", utcnow())) == [
        ("applied", "BOOST_ENDED")
    ]
    assert await order_points(db, utcnow()) == 30
    other = (await gql(app_client, CASHBACK, {"brand": "pizza"}, bearer=anna))["data"]
    assert other["me"]["cashback"]["percent"] == 0.0  # no percentage rule there


async def test_a_late_order_takes_the_boosts_of_the_moment_it_completed(app_client, db, program):
    card, _, _ = program
    start = utcnow() - timedelta(days=10)
    await report(
        app_client,
        "bank",
        product("a", card, "activated", start),
        product("d", card, "deactivated", start + timedelta(days=5)),
    )
    assert await order_points(db, start + timedelta(days=2)) == 50  # reported now, boosted
    assert await order_points(db, start + timedelta(days=7)) == 30


async def test_product_events_in_any_order_and_twice(app_client, db, program):
    card, _, _ = program
    t1, t2 = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
    # The deactivation overtook the activation: the late activation changes nothing.
    assert await report(
        app_client,
        "bank",
        product("off", card, "deactivated", t2),
        product("on", card, "activated", t1),
        product("on", card, "activated", t1),
    ) == [("applied", "UNCHANGED"), ("ignored", "OUT_OF_ORDER"), ("duplicate", None)]
    assert await order_points(db, utcnow()) == 30
    resent = await report(app_client, "bank", product("on", card, "activated", t1))
    assert resent == [("duplicate", "OUT_OF_ORDER")]  # answered as the first time
    assert await report(app_client, "bank", product("on-2", card, "activated", utcnow())) == [
        ("applied", "BOOST_STARTED")
    ]
    assert await report(app_client, "bank", product("on-3", card, "activated", utcnow())) == [
        ("applied", "UNCHANGED")
    ]
    assert await order_points(db, utcnow()) == 50


async def test_products_the_customer_may_not_boost_with_are_refused(app_client, db, program):
    card, policy, bank = program
    plain = await make_offer(db, bank, title="Plain")  # raises no percentage
    await activate(db, plain, "anna")
    results = await report(
        app_client,
        "insurer",
        product("x1", policy, "activated", utcnow()),  # Anna never opted into it
        product("x2", card, "activated", utcnow()),  # the bank's offer, not the insurer's
        product("x3", policy, "activated", utcnow(), customer="nobody"),
    )
    assert results == [
        ("rejected", "NOT_ACTIVATED"),
        ("rejected", "UNKNOWN_OFFER"),
        ("rejected", "NOT_ACTIVATED"),
    ]
    assert await report(app_client, "bank", product("x4", plain, "activated", utcnow())) == [
        ("rejected", "NO_BOOST")
    ]
    assert await order_points(db, utcnow()) == 30


async def test_a_timed_boost_ends_by_itself(app_client, db, program):
    _, policy, _ = program
    await activate(db, policy, "anna")
    start = utcnow() - timedelta(days=100)
    assert await report(app_client, "insurer", product("t", policy, "activated", start)) == [
        ("applied", "BOOST_STARTED")
    ]
    assert await order_points(db, start + timedelta(days=89)) == 40  # 3 % + 1 %
    assert await order_points(db, start + timedelta(days=91)) == 30  # over: its 90 days
    async with db.unit_of_work() as session:
        assert len(await BoostService(session).end_expired(10)) == 1
    async with db.unit_of_work() as session:
        assert await BoostService(session).end_expired(10) == []


async def test_only_admins_set_the_cap_and_it_is_checked(app_client, settings, db, program):
    for bearer in (token(settings, "anna"), token(settings, "m", Role.MARKETING)):
        refused = await gql(
            app_client, CAP, {"input": {"maxPercentBasisPoints": 500}}, bearer=bearer
        )
        assert error_codes(refused) == ["FORBIDDEN"]
    admin = token(settings, "boss", Role.ADMIN)
    for value in (0, 10_001, -5):
        bad = await gql(app_client, CAP, {"input": {"maxPercentBasisPoints": value}}, bearer=admin)
        assert bad["data"]["cashbackCapSet"] == {
            "cap": None,
            "userErrors": [{"code": "INVALID_CAP", "field": ["input", "maxPercentBasisPoints"]}],
        }
    every = await gql(app_client, CAP, {"input": {"maxPercentBasisPoints": 350}}, bearer=admin)
    assert every["data"]["cashbackCapSet"]["cap"]["brand"] is None
    assert await order_points(db, utcnow()) == 30  # the base is the admins' own rule


CHANGES = """query H($reasons: [CashbackChangeReason!]) { cashbackChanges(reasons: $reasons) {
  edges { node { brand fromPercent toPercent reason source } } } }"""


async def test_every_change_is_recorded_and_a_rise_is_pushed(app_client, settings, db, program):
    card, _, _ = program
    await customer_with_device(db, "anna", "fcm-token-anna-1", points=0, locale="ru")
    now = utcnow()
    assert await queue_transactional(db, settings, now) == 0  # the streams start here
    await report(app_client, "bank", product("on", card, "activated", utcnow()))
    for _ in range(5):  # Silver: +1 % on the rule that takes the bonus
        await order_points(db, utcnow())
    await report(app_client, "bank", product("off", card, "deactivated", utcnow()))

    analyst = token(settings, "ana", Role.MARKETING)
    body = await gql(app_client, CHANGES, bearer=analyst)
    changes = [edge["node"] for edge in body["data"]["cashbackChanges"]["edges"]]
    assert [(c["fromPercent"], c["toPercent"], c["reason"]) for c in changes] == [
        (3.0, 5.0, "PARTNER_BOOST"),
        (5.0, 6.0, "ORDER"),
        (6.0, 4.0, "PARTNER_BOOST"),
    ]
    assert {c["brand"] for c in changes} == {"grocery"}
    assert changes[0]["source"] == "partner:bank:on"
    assert changes[1]["source"].startswith("order:grocery:")
    only = await gql(app_client, CHANGES, {"reasons": ["ORDER"]}, bearer=analyst)
    assert len(only["data"]["cashbackChanges"]["edges"]) == 1
    refused = await gql(app_client, CHANGES, bearer=token(settings, "anna"))
    assert error_codes(refused) == ["FORBIDDEN"]

    await queue_transactional(db, settings, utcnow())
    async with db.read() as session:
        pushes = (
            await session.execute(
                select(Message.title, Message.body)
                .where(Message.title.like("%кешбэк%"))
                .order_by(Message.id)
            )
        ).all()
    # The two rises, in the device's language; the fall is not announced.
    assert [tuple(row) for row in pushes] == [
        ("Ваш кешбэк теперь 5\u00a0%", "Так держать: заказы возвращают больше."),
        ("Ваш кешбэк теперь 6\u00a0%", "Так держать: заказы возвращают больше."),
    ]


async def test_a_partners_own_format_reports_products_through_its_adapter(
    app_client, settings, db, program
):
    _, policy, _ = program
    async with db.unit_of_work() as session:
        insurer = await session.get(Partner, policy.partner_id)
        insurer.adapter = "insurer-v1"
    await activate(db, policy, "anna")
    own = {
        "txn": "T-9",
        "kind": "POLICY_ACTIVE",
        "client": "anna",
        "promo": offer_gid(policy),
        "ts": (utcnow() - timedelta(minutes=1)).isoformat(),
    }
    response = await post_signed(app_client, "/api/partners/insurer/events", own)
    assert response.json()["status"] == "applied", response.text
    assert response.json()["code"] == "BOOST_STARTED"
    assert await order_points(db, utcnow()) == 40  # 3 % + the policy's 1 %


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_random_product_events_follow_a_simple_model(app_client, settings, db, program, seed):
    """Activations and deactivations of two products, sent late, early and twice, in
    random order: the percentage and its recorded history always match a model that
    applies each product's newest event only."""
    card, policy, _ = program
    await activate(db, policy, "anna")
    rng = random.Random(seed)
    boosts = {"bank": (card, 200), "insurer": (policy, 100)}
    latest: dict[str, tuple[datetime, bool]] = {}  # the model: newest event per product
    sent: list[tuple[str, dict]] = []
    start = utcnow() - timedelta(days=1)
    async with db.read() as session:
        customer_id = await session.scalar(
            select(Customer.id).where(Customer.external_id == "anna")
        )
    for number in range(40):
        if sent and rng.random() < 0.15:
            partner, event = rng.choice(sent)  # the same event again
        else:
            partner = rng.choice(list(boosts))
            at = start + timedelta(minutes=rng.randrange(0, 600))
            state = rng.choice(["activated", "deactivated"])
            event = product(f"e{number}", boosts[partner][0], state, at)
            newest = latest.get(partner)
            if newest is None or at > newest[0]:
                latest[partner] = (at, state == "activated")
            sent.append((partner, event))
        await report(app_client, partner, event)
        expected = 300 + sum(
            boosts[partner][1] for partner, (_, active) in latest.items() if active
        )
        async with db.read() as session:
            found = await CashbackService(session).of(customer_id, "grocery")
            recorded = await EarningRepository(session).last_cashback(customer_id, "grocery")
        assert found.percent_bp == expected, number
        assert (recorded if recorded is not None else 300) == expected, number


async def test_the_tills_quote_previews_the_boosted_accrual(app_client, db, program):
    card, _, _ = program
    await report(app_client, "bank", product("q", card, "activated", utcnow()))
    response = await quote(app_client, order(100_000))
    assert response.status_code == 200, response.text
    accruals = response.json()["accruals"]
    assert [(a["currency"], a["amount"]) for a in accruals] == [("POINTS", 50)]  # 3 % + 2 %
    assert await order_points(db, utcnow()) == 50  # and the order earns what was shown


async def test_a_late_order_takes_the_bonus_of_the_level_held_when_it_completed(db, program):
    t0 = utcnow() - timedelta(days=60)
    for number in range(5):  # Silver on day 0: +1 %
        async with db.unit_of_work() as session:
            await OrderService(session, clock=lambda: t0).complete(
                CompletedOrder(
                    external_id=f"S-{number}",
                    brand="pizza",
                    customer_external_id="anna",
                    city=None,
                    amount=1_000,
                    completed_at=t0,
                )
            )
    async with db.read() as session:
        anna = await session.scalar(select(Customer.id).where(Customer.external_id == "anna"))
    async with db.unit_of_work() as session:
        dropped = await LevelService(session, clock=lambda: t0 + timedelta(days=31)).decay(anna)
    assert dropped.code == "BRONZE"
    assert await order_points(db, t0 + timedelta(days=10)) == 40  # reported late: Silver then
    assert await order_points(db, utcnow()) == 30  # Bronze now: that window closed long ago


async def test_an_offers_boost_is_checked_and_shown(app_client, settings):
    await create_partner(app_client, settings)
    for extra, field in (
        ({"boostBasisPoints": 0}, "boostBasisPoints"),
        ({"boostBasisPoints": 10_001}, "boostBasisPoints"),
        ({"boostDays": 30}, "boostDays"),  # days of no boost
        ({"boostBasisPoints": 200, "boostDays": 0}, "boostDays"),
    ):
        refused = await create_offer(app_client, settings, **extra)
        assert refused["userErrors"] == [{"code": "INVALID_REWARD", "field": ["input", field]}]
    made = await create_offer(app_client, settings, boostBasisPoints=250, boostDays=90)
    assert made["userErrors"] == []
    shown = await gql(
        app_client,
        "query O($id: ID!) { node(id: $id) { ... on Offer { cashbackBoost { percent days } } } }",
        {"id": made["offer"]["id"]},
    )
    assert shown["data"]["node"]["cashbackBoost"] == {"percent": 2.5, "days": 90}
