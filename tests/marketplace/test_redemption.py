"""Redeeming coins for a gift: a hold, confirmed or cancelled by the ordering system."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from bff.kernel.types import utcnow
from bff.ledger.models import Hold, Wallet
from bff.worker import JobReport, expire_holds
from tests.fixtures.earning import send
from tests.fixtures.graphql import gql, token
from tests.fixtures.marketplace import give_coins, make_category, make_product
from tests.ledger.invariants import check_wallet_invariants

REDEEM = """mutation R($input: MarketplaceRedeemInput!) { marketplaceRedeem(input: $input) {
  redemption { id status price { amount currency } product { title } }
  wallet { balance available held version } userErrors { code field message } } }"""
MINE = """{ me { redemptions(first: 10) { edges { node { id status } } } } }"""
NODE = """query N($id: ID!) { node(id: $id) { ... on Redemption { status } } }"""


async def setup_shelf(db, price=100):
    category = await make_category(db, price=price)
    return await make_product(db, category), await make_product(db, category, "Pepperoni")


async def redeem(client, bearer, product, key="k-1", version=None):
    values = {"productId": encode_id("MarketplaceProduct", product.id), "idempotencyKey": key}
    if version is not None:
        values["expectedVersion"] = version
    body = await gql(client, REDEEM, {"input": values}, bearer=bearer)
    return body["data"]["marketplaceRedeem"]


async def coins(db, customer_id):
    async with db.read() as session:
        wallet = (
            await session.scalars(
                select(Wallet).where(Wallet.customer_id == customer_id, Wallet.currency == "COINS")
            )
        ).one()
    return wallet.balance, wallet.held


def confirmed(event_id, redemption_id, kind="confirmed"):
    return {"id": event_id, "type": f"redemption.{kind}", "redemption": {"id": redemption_id}}


async def test_a_redemption_holds_the_price_until_confirmed(app_client, db, settings):
    product, _ = await setup_shelf(db)
    customer_id = await give_coins(db, "anna", 300)
    anna = token(settings, "anna")
    done = await redeem(app_client, anna, product, version=1)
    assert done["userErrors"] == []
    assert done["redemption"]["status"] == "PENDING"
    assert done["redemption"]["price"] == {"amount": 100, "currency": "COINS"}
    assert done["wallet"] == {"balance": 300, "available": 200, "held": 100, "version": 2}

    answer = await send(app_client, confirmed("o-1", done["redemption"]["id"]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "confirmed"
    assert await coins(db, customer_id) == (200, 0)
    mine = await gql(app_client, MINE, bearer=anna)
    assert mine["data"]["me"]["redemptions"]["edges"][0]["node"]["status"] == "CONFIRMED"

    again = await send(app_client, confirmed("o-1", done["redemption"]["id"]))
    assert again.json()["status"] == "duplicate"

    # Cancelled after all: the coins come back, once, however many cancellations arrive.
    for event_id in ("o-2", "o-3"):
        cancel = await send(app_client, confirmed(event_id, done["redemption"]["id"], "cancelled"))
        assert (cancel.status_code, cancel.json()["status"]) == (200, "cancelled"), cancel.text
        assert await coins(db, customer_id) == (300, 0)
    mine = await gql(app_client, MINE, bearer=anna)
    assert mine["data"]["me"]["redemptions"]["edges"][0]["node"]["status"] == "CANCELLED"
    async with db.read() as session:
        wallet = await session.scalar(
            select(Wallet.id).where(Wallet.customer_id == customer_id, Wallet.currency == "COINS")
        )
    await check_wallet_invariants(db, wallet)


async def test_a_cancelled_redemption_gives_the_coins_back(app_client, db, settings):
    product, _ = await setup_shelf(db)
    customer_id = await give_coins(db, "anna", 300)
    done = await redeem(app_client, token(settings, "anna"), product)
    answer = await send(app_client, confirmed("o-1", done["redemption"]["id"], "cancelled"))
    assert answer.json()["status"] == "cancelled"
    assert await coins(db, customer_id) == (300, 0)


async def test_a_stale_version_holds_nothing(app_client, db, settings):
    product, _ = await setup_shelf(db)
    customer_id = await give_coins(db, "anna", 300)
    done = await redeem(app_client, token(settings, "anna"), product, version=0)
    assert [(e["code"], e["field"]) for e in done["userErrors"]] == [
        ("VERSION_CONFLICT", ["input", "expectedVersion"])
    ]
    assert done["redemption"] is None
    assert await coins(db, customer_id) == (300, 0)


async def test_not_enough_coins(app_client, db, settings):
    product, _ = await setup_shelf(db, price=500)
    customer_id = await give_coins(db, "anna", 300)
    done = await redeem(app_client, token(settings, "anna"), product)
    assert [e["code"] for e in done["userErrors"]] == ["INSUFFICIENT_FUNDS"]
    assert await coins(db, customer_id) == (300, 0)


async def test_a_stop_listed_product_cannot_be_taken_in_its_city(app_client, db, settings):
    product, other = await setup_shelf(db)
    customer_id = await give_coins(db, "anna", 300, city="Kazan")
    support = token(settings, "sam", Role.SUPPORT)
    stop = """mutation S($input: MarketplaceStopListSetInput!) {
      marketplaceStopListSet(input: $input) { userErrors { code } } }"""
    values = {"productId": encode_id("MarketplaceProduct", product.id), "reason": "No basil"}
    await gql(app_client, stop, {"input": values | {"city": "Kazan"}}, bearer=support)
    anna = token(settings, "anna")
    refused = await redeem(app_client, anna, product)
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("PRODUCT_UNAVAILABLE", ["input", "productId"])
    ]
    assert await coins(db, customer_id) == (300, 0)
    taken = await redeem(app_client, anna, other, key="k-2")
    assert taken["userErrors"] == []


async def test_a_retry_with_the_same_key_returns_the_first_redemption(app_client, db, settings):
    product, other = await setup_shelf(db)
    customer_id = await give_coins(db, "anna", 300)
    anna = token(settings, "anna")
    first = await redeem(app_client, anna, product, version=1)
    await gql(  # the product goes off the shelf after the first attempt
        app_client,
        """mutation U($id: ID!) { marketplaceProductUpdate(input: {id: $id, active: false}) {
          userErrors { code } } }""",
        {"id": encode_id("MarketplaceProduct", product.id)},
        bearer=token(settings, "boss", Role.ADMIN),
    )
    retry = await redeem(app_client, anna, product, version=1)
    assert retry["userErrors"] == []
    assert retry["redemption"]["id"] == first["redemption"]["id"]
    assert await coins(db, customer_id) == (300, 100)
    conflict = await redeem(app_client, anna, other)
    assert [e["code"] for e in conflict["userErrors"]] == ["IDEMPOTENCY_CONFLICT"]
    assert await coins(db, customer_id) == (300, 100)


async def test_an_unconfirmed_redemption_expires_and_the_coins_come_back(app_client, db, settings):
    product, _ = await setup_shelf(db)
    customer_id = await give_coins(db, "anna", 300)
    anna = token(settings, "anna")
    done = await redeem(app_client, anna, product)
    async with db.unit_of_work() as session:  # as if the configured time had passed
        await session.execute(update(Hold).values(expires_at=utcnow() - timedelta(seconds=1)))
    before_worker = await gql(app_client, NODE, {"id": done["redemption"]["id"]}, bearer=anna)
    assert before_worker["data"]["node"]["status"] == "EXPIRED"
    late = await send(app_client, confirmed("o-1", done["redemption"]["id"]))
    assert (late.status_code, late.json()["error"]["code"]) == (422, "HOLD_EXPIRED")

    report = JobReport()
    await expire_holds(db, 100, report)
    assert report.holds_expired == 1
    assert await coins(db, customer_id) == (300, 0)
    after = await gql(app_client, NODE, {"id": done["redemption"]["id"]}, bearer=anna)
    assert after["data"]["node"]["status"] == "EXPIRED"


async def test_someone_elses_redemption_is_invisible(app_client, db, settings):
    product, _ = await setup_shelf(db)
    await give_coins(db, "anna", 300)
    done = await redeem(app_client, token(settings, "anna"), product)
    seen = await gql(
        app_client, NODE, {"id": done["redemption"]["id"]}, bearer=token(settings, "bob")
    )
    assert seen["data"]["node"] is None
    staff = token(settings, "sam", Role.SUPPORT)
    assert (await gql(app_client, NODE, {"id": done["redemption"]["id"]}, bearer=staff))["data"][
        "node"
    ] == {"status": "PENDING"}


async def test_unknown_or_malformed_redemption_events(app_client, db):
    unknown = await send(app_client, confirmed("o-1", encode_id("Redemption", 999)))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "NOT_FOUND")
    malformed = await send(app_client, {"id": "o-2", "type": "redemption.confirmed"})
    assert (malformed.status_code, malformed.json()["error"]["field"]) == (400, "redemption")


async def test_concurrent_redemptions_never_overspend(app_client, db, settings):
    product, other = await setup_shelf(db, price=200)
    customer_id = await give_coins(db, "anna", 300)
    anna = token(settings, "anna")
    results = await asyncio.gather(
        redeem(app_client, anna, product, key="a"), redeem(app_client, anna, other, key="b")
    )
    codes = sorted(str([e["code"] for e in r["userErrors"]]) for r in results)
    assert codes == ["['INSUFFICIENT_FUNDS']", "[]"]
    assert await coins(db, customer_id) == (300, 200)


async def test_many_concurrent_redemptions_hold_at_most_the_balance(app_client, db, settings):
    category = await make_category(db, price=100)
    products = [await make_product(db, category, f"Gift {n}") for n in range(3)]
    customer_id = await give_coins(db, "anna", 1_000)
    anna = token(settings, "anna")
    results = await asyncio.gather(
        *(redeem(app_client, anna, products[n % 3], key=f"k-{n}") for n in range(25))
    )
    taken = [r for r in results if not r["userErrors"]]
    refused = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert (len(taken), set(refused)) == (10, {"INSUFFICIENT_FUNDS"})
    assert await coins(db, customer_id) == (1_000, 1_000)
