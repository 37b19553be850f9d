"""The shelf: staff keep categories, products and the stop-list; customers browse."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from bff.kernel.types import utcnow
from bff.marketplace.models import StopListEntry
from tests.conftest import counting_statements
from tests.fixtures.graphql import error_codes, gql, token
from tests.fixtures.marketplace import give_coins, make_category, make_product

SHELF = """query S($city: String) { marketplace(city: $city) { city
  categories(first: 20) { edges { node { title price { amount currency }
    products(first: 10) { edges { node {
      title available unavailableCode unavailableReason stopNote availableAgainAt } }
                          pageInfo { hasNextPage } } } } } } }"""
CATEGORY = """mutation C($input: MarketplaceCategoryCreateInput!) {
  marketplaceCategoryCreate(input: $input) {
    category { id title price { amount currency } } userErrors { code field message } } }"""
CATEGORY_UPDATE = """mutation U($input: MarketplaceCategoryUpdateInput!) {
  marketplaceCategoryUpdate(input: $input) { category { title price { amount } }
    userErrors { code field } } }"""
PRODUCT = """mutation P($input: MarketplaceProductCreateInput!) {
  marketplaceProductCreate(input: $input) { product { id title available }
    userErrors { code field } } }"""
PRODUCT_UPDATE = """mutation U($input: MarketplaceProductUpdateInput!) {
  marketplaceProductUpdate(input: $input) { product { title } userErrors { code field } } }"""
STOP = """mutation S($input: MarketplaceStopListSetInput!) {
  marketplaceStopListSet(input: $input) { product { title } userErrors { code field } } }"""
LIFT = """mutation L($input: MarketplaceStopListLiftInput!) {
  marketplaceStopListLift(input: $input) { product { title } userErrors { code } } }"""


def products_of(body, category=0):
    edges = body["data"]["marketplace"]["categories"]["edges"][category]["node"]["products"]
    return [edge["node"] for edge in edges["edges"]]


async def test_admin_builds_the_shelf_and_customers_see_it(app_client, settings):
    admin = token(settings, "boss", Role.ADMIN)
    made = await gql(
        app_client, CATEGORY, {"input": {"title": "Pizza", "price": 250}}, bearer=admin
    )
    category = made["data"]["marketplaceCategoryCreate"]
    assert category["userErrors"] == []
    assert category["category"]["price"] == {"amount": 250, "currency": "COINS"}
    for title in ("Margherita", "Pepperoni"):
        body = await gql(
            app_client,
            PRODUCT,
            {"input": {"categoryId": category["category"]["id"], "title": title}},
            bearer=admin,
        )
        assert body["data"]["marketplaceProductCreate"]["userErrors"] == []
    shelf = await gql(app_client, SHELF)
    assert [p["title"] for p in products_of(shelf)] == ["Margherita", "Pepperoni"]
    assert all(p["available"] for p in products_of(shelf))


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"title": "Free", "price": 0}, {"code": "INVALID_PRICE", "field": ["input", "price"]}),
        ({"title": " ", "price": 10}, {"code": "INVALID_TITLE", "field": ["input", "title"]}),
        ({"title": "x" * 201, "price": 10}, {"code": "INVALID_TITLE", "field": ["input", "title"]}),
        *(
            (
                {"title": "Coffee", "price": 10, "imageUrl": url},
                {"code": "INVALID_IMAGE_URL", "field": ["input", "imageUrl"]},
            )
            for url in [
                "http://cdn.test/a.png",  # blocked in an HTTPS WebView
                "javascript:alert(1)",
                "/webviews/static/../../etc/passwd",
                "/graphql",
                "https://cdn.test/" + "a" * 500,
            ]
        ),
    ],
)
async def test_bad_categories_get_typed_errors(app_client, settings, db, values, error):
    admin = token(settings, "boss", Role.ADMIN)
    body = await gql(app_client, CATEGORY, {"input": values}, bearer=admin)
    errors = body["data"]["marketplaceCategoryCreate"]["userErrors"]
    assert [{"code": e["code"], "field": e["field"]} for e in errors] == [error]
    assert (await gql(app_client, SHELF))["data"]["marketplace"]["categories"]["edges"] == []


async def test_staff_mutations_check_roles(app_client, settings, db):
    category = await make_category(db)
    product = await make_product(db, category)
    product_id = encode_id("MarketplaceProduct", product.id)
    customer = token(settings, "anna")
    support = token(settings, "sam", Role.SUPPORT)
    denied = [
        await gql(app_client, CATEGORY, {"input": {"title": "X", "price": 1}}, bearer=customer),
        await gql(app_client, CATEGORY, {"input": {"title": "X", "price": 1}}, bearer=support),
        await gql(
            app_client,
            STOP,
            {"input": {"productId": product_id, "reason": "Sold out"}},
            bearer=customer,
        ),
        await gql(app_client, CATEGORY, {"input": {"title": "X", "price": 1}}),
    ]
    assert [error_codes(body) for body in denied] == [
        ["FORBIDDEN"],
        ["FORBIDDEN"],
        ["FORBIDDEN"],
        ["UNAUTHENTICATED"],
    ]
    allowed = await gql(
        app_client, STOP, {"input": {"productId": product_id, "reason": "Sold out"}}, bearer=support
    )
    assert allowed["data"]["marketplaceStopListSet"]["userErrors"] == []


async def test_updates_change_only_what_is_given(app_client, settings, db):
    category = await make_category(db, price=100)
    product = await make_product(db, category)
    admin = token(settings, "boss", Role.ADMIN)
    category_id = encode_id("MarketplaceCategory", category.id)
    changed = await gql(
        app_client,
        CATEGORY_UPDATE,
        {"input": {"id": category_id, "price": 120, "title": None}},
        bearer=admin,
    )
    assert changed["data"]["marketplaceCategoryUpdate"] == {
        "category": {"title": "Pizza", "price": {"amount": 120}},
        "userErrors": [],
    }
    hidden = await gql(
        app_client,
        PRODUCT_UPDATE,
        {"input": {"id": encode_id("MarketplaceProduct", product.id), "active": False}},
        bearer=admin,
    )
    assert hidden["data"]["marketplaceProductUpdate"]["userErrors"] == []
    assert products_of(await gql(app_client, SHELF)) == []  # out of the catalogue: hidden
    unknown = await gql(
        app_client,
        PRODUCT_UPDATE,
        {"input": {"id": encode_id("MarketplaceProduct", 999), "title": "X"}},
        bearer=admin,
    )
    assert unknown["data"]["marketplaceProductUpdate"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["input", "id"]}
    ]


async def test_the_stop_list_works_per_city_and_everywhere(app_client, settings, db):
    category = await make_category(db)
    margherita = await make_product(db, category)
    await make_product(db, category, "Pepperoni")
    support = token(settings, "sam", Role.SUPPORT)
    product_id = encode_id("MarketplaceProduct", margherita.id)
    back = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    stop = {
        "productId": product_id,
        "reason": "No basil",
        "city": "Kazan",
        "until": back.isoformat(),
    }
    await gql(app_client, STOP, {"input": stop}, bearer=support)

    in_kazan = products_of(await gql(app_client, SHELF, {"city": "kazan"}))
    assert in_kazan[0] == {
        "title": "Margherita",
        "available": False,
        "unavailableCode": "STOPPED",
        "unavailableReason": "Not available right now",
        "stopNote": "No basil",
        "availableAgainAt": back.isoformat(),
    }
    assert in_kazan[1]["available"] is True
    in_moscow = products_of(await gql(app_client, SHELF, {"city": "Moscow"}))
    assert [p["available"] for p in in_moscow] == [True, True]

    # A signed-in customer's own city counts, whatever the argument says.
    await give_coins(db, "anna", 1, city="Kazan")
    anna = token(settings, "anna")
    mine = await gql(app_client, SHELF, {"city": "Moscow"}, bearer=anna)
    assert mine["data"]["marketplace"]["city"] == "Kazan"
    assert products_of(mine)[0]["available"] is False

    everywhere = {"productId": product_id, "reason": "Recalled"}
    await gql(app_client, STOP, {"input": everywhere}, bearer=support)
    in_moscow = products_of(await gql(app_client, SHELF, {"city": "Moscow"}))
    assert (in_moscow[0]["available"], in_moscow[0]["stopNote"]) == (False, "Recalled")

    for city in ("Kazan", None):
        await gql(
            app_client, LIFT, {"input": {"productId": product_id, "city": city}}, bearer=support
        )
    assert all(p["available"] for p in products_of(await gql(app_client, SHELF, {"city": "Kazan"})))


async def test_a_stop_that_ended_no_longer_counts(app_client, settings, db):
    category = await make_category(db)
    product = await make_product(db, category)
    support = token(settings, "sam", Role.SUPPORT)
    ended = (utcnow() - timedelta(minutes=1)).isoformat()
    stop = {"productId": encode_id("MarketplaceProduct", product.id), "reason": "x", "until": ended}
    await gql(app_client, STOP, {"input": stop}, bearer=support)
    assert products_of(await gql(app_client, SHELF))[0]["available"] is True


async def test_a_stop_needs_a_reason(app_client, settings, db):
    category = await make_category(db)
    product = await make_product(db, category)
    support = token(settings, "sam", Role.SUPPORT)
    stop = {"productId": encode_id("MarketplaceProduct", product.id), "reason": "  "}
    body = await gql(app_client, STOP, {"input": stop}, bearer=support)
    assert body["data"]["marketplaceStopListSet"]["userErrors"] == [
        {"code": "INVALID_REASON", "field": ["input", "reason"]}
    ]


async def test_categories_page_in_sort_order(app_client, db):
    for title, order in (("Drinks", 2), ("Pizza", 1), ("Desserts", 3)):
        await make_category(db, title, sort_order=order)
    query = """query P($after: String) { marketplace { categories(first: 2, after: $after) {
      edges { node { title } } pageInfo { hasNextPage endCursor } } } }"""
    first = (await gql(app_client, query))["data"]["marketplace"]["categories"]
    assert [e["node"]["title"] for e in first["edges"]] == ["Pizza", "Drinks"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await gql(app_client, query, {"after": first["pageInfo"]["endCursor"]})
    page = rest["data"]["marketplace"]["categories"]
    assert [e["node"]["title"] for e in page["edges"]] == ["Desserts"]
    assert page["pageInfo"]["hasNextPage"] is False


async def shelf_statements(app_client, db, categories: int, products: int) -> int:
    for number in range(categories):
        category = await make_category(db, f"C{number}", sort_order=number)
        for item in range(products):
            product = await make_product(db, category, f"P{number}-{item}")
            if item % 3 == 0:
                await _stop(db, product.id)
    anna = token(app_client.app.state.settings, "anna")
    await give_coins(db, "anna", 1, city="Kazan")
    await gql(app_client, "{ me { id } }", bearer=anna)  # the token's customer is known now
    with counting_statements(app_client.app) as counter:
        body = await gql(app_client, SHELF, bearer=anna)
    assert "errors" not in body
    assert len(body["data"]["marketplace"]["categories"]["edges"]) == categories
    assert len(products_of(body)) == min(products, 10)
    return counter.count


async def _stop(db, product_id: int) -> None:
    async with db.unit_of_work() as session:
        session.add(
            StopListEntry(
                product_id=product_id,
                scope="Kazan",
                reason="Sold out",
                created_by="test",
                created_at=utcnow(),
            )
        )


async def test_the_shelf_costs_the_same_statements_for_1_or_20_categories(app_client, db):
    # The categories, the customer's city, their products, the products' stops: 4.
    assert await shelf_statements(app_client, db, 1, 1) == 4


async def test_the_shelf_costs_4_statements_with_20_categories_of_12_products(app_client, db):
    assert await shelf_statements(app_client, db, 20, 12) == 4
