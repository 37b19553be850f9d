"""`home`: the native home screen in one round trip, at a constant SQL cost."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import timedelta

from bff.kernel.types import utcnow
from bff.marketplace.models import Category, Product, StopListEntry
from bff.partners.models import Offer, RewardKind
from tests.conftest import counting_statements
from tests.fixtures.graphql import gql, token
from tests.fixtures.marketplace import give_coins
from tests.fixtures.partners import activate, make_partner

HOME = """{ home {
  wallets { currency balance available pending expiringSoon { amount } }
  level { current { code } progress { completedOrders } }
  offers(first: 50) { edges { node { title partner { name } activation { active } } } }
  marketplace { city categories(first: 50) { edges { node { title price { amount }
    products(first: 50) { edges { node { title available unavailableReason } } } } } } }
  featureFlags { key enabled }
} }"""


async def catalogue(app_client, db, size: int) -> None:
    """``size`` offers, ``size`` categories of ``size`` products, a stop every third."""
    partner = await make_partner(db, app_client.app.state.secret_box)
    now = utcnow()
    async with db.unit_of_work() as session:
        offers = [
            Offer(
                partner_id=partner.id,
                title=f"Offer {n}",
                description="",
                terms="",
                currency="POINTS",
                reward_kind=RewardKind.FIXED,
                reward_points=10,
                valid_from=now - timedelta(days=1),
                budget_spent=0,
                active=True,
                created_at=now,
                updated_at=now,
            )
            for n in range(size)
        ]
        categories = [
            Category(
                title=f"Shelf {n}",
                currency="COINS",
                price=100,
                sort_order=n,
                active=True,
                created_at=now,
                updated_at=now,
            )
            for n in range(size)
        ]
        session.add_all([*offers, *categories])
        await session.flush()
        products = [
            Product(
                category_id=category.id,
                title=f"Gift {category.id}-{n}",
                description="",
                active=True,
                created_at=now,
                updated_at=now,
            )
            for category in categories
            for n in range(size)
        ]
        session.add_all(products)
        await session.flush()
        session.add_all(
            StopListEntry(
                product_id=p.id, scope="Kazan", reason="Sold out", created_by="t", created_at=now
            )
            for p in products[::3]
        )
    await activate(db, offers[0], "anna")


async def statements_for_home(app_client, db, size: int) -> tuple[int, int]:
    """SQL statements for `home`: the first time, then with the catalogue cached."""
    await catalogue(app_client, db, size)
    await give_coins(db, "anna", 120, city="Kazan")
    anna = token(app_client.app.state.settings, "anna")
    await gql(app_client, "{ me { id } }", bearer=anna)  # the token's customer is known
    counts = []
    for _ in range(2):
        with counting_statements(app_client.app) as counter:
            body = await gql(app_client, HOME, bearer=anna)
        assert "errors" not in body, body
        home = body["data"]["home"]
        assert len(home["offers"]["edges"]) == size
        categories = home["marketplace"]["categories"]["edges"]
        assert len(categories) == size
        assert all(len(c["node"]["products"]["edges"]) == size for c in categories)
        assert categories[0]["node"]["products"]["edges"][0]["node"]["available"] is False
        counts.append(counter.count)
    return counts[0], counts[1]


# wallets, currencies, pending, expiring, levels, standing, offers, their partners,
# activations, categories, the viewer's city, products, stops, flags
STATEMENTS = 14
# the customer's own rows: wallets, pending, expiring, standing, activations, city
STATEMENTS_CACHED = 6


async def test_home_costs_the_same_statements_with_one_item(app_client, db):
    assert await statements_for_home(app_client, db, 1) == (STATEMENTS, STATEMENTS_CACHED)


async def test_home_costs_the_same_statements_with_fifty_items(app_client, db):
    assert await statements_for_home(app_client, db, 50) == (STATEMENTS, STATEMENTS_CACHED)


async def test_home_for_a_customer_and_for_an_anonymous_visitor(app_client, db, settings):
    await catalogue(app_client, db, 2)
    await give_coins(db, "anna", 120, city="Kazan")
    mine = (await gql(app_client, HOME, bearer=token(settings, "anna")))["data"]["home"]
    assert {w["currency"]: w["balance"] for w in mine["wallets"]} == {"COINS": 120, "POINTS": 0}
    assert mine["level"]["current"]["code"] == "BRONZE"
    assert mine["marketplace"]["city"] == "Kazan"
    assert mine["offers"]["edges"][0]["node"]["activation"] == {"active": True}

    anonymous = (await gql(app_client, HOME))["data"]["home"]
    assert (anonymous["wallets"], anonymous["level"]) == (None, None)
    assert [e["node"]["title"] for e in anonymous["offers"]["edges"]] == ["Offer 0", "Offer 1"]
    assert anonymous["offers"]["edges"][0]["node"]["activation"] is None
    shelf = anonymous["marketplace"]["categories"]["edges"][0]["node"]["products"]["edges"]
    assert shelf[0]["node"]["available"] is True  # the stop is in Kazan only


async def test_a_home_request_leaves_nothing_to_the_garbage_collector(app_client, db, settings):
    # A worker collects rarely (bff.kernel.serving); whatever a request leaves in reference
    # cycles piles up until a collection walks it all at once, a pause for every request
    # in flight. The request's executor, context, loaders and sessions must be freed as
    # soon as the answer is sent.
    await catalogue(app_client, db, 3)
    await give_coins(db, "anna", 120, city="Kazan")
    anna = token(settings, "anna")
    await gql(app_client, HOME, bearer=anna)  # catalogue kept, customer known
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            body = await gql(app_client, HOME, bearer=anna)
            assert body["data"]["home"]["wallets"], body
        gc.collect()
        left = Counter(type(thing).__name__ for thing in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    ours = {"SharingExecutionContext", "Context", "RequestReads", "DataLoader", "AsyncSession"}
    ours |= {"Session", "DriverReads", "Wallet", "Customer"}
    assert not {kind: n for kind, n in left.items() if kind in ours}, left
