"""The marketplace shelf is completed once per city, document and variables, then served
from the catalogue cache; what differs never shares an entry, and errors are not kept."""

from __future__ import annotations

import pytest

from bff.catalogue import CatalogueCache
from bff.db import Database
from bff.marketplace.models import EVERYWHERE, Product, StopListEntry
from bff.types import utcnow
from tests.fixtures.graphql import gql, token
from tests.fixtures.marketplace import give_coins, make_category, make_product

SHELF = """query Shelf($city: String) { home { marketplace(city: $city) { city
  categories { edges { node { title products { edges { node { title available
    unavailableReason } } } } } } } } }"""
TITLES = "{ home { marketplace { categories { edges { node { id } } } } } }"


def kept_subtrees(catalogue: CatalogueCache) -> list[tuple]:
    return [key for key in catalogue._entries if key[0] == "subtree"]


def availability(body: dict) -> list[bool]:
    [category] = body["data"]["home"]["marketplace"]["categories"]["edges"]
    return [edge["node"]["available"] for edge in category["node"]["products"]["edges"]]


@pytest.fixture
async def shelf_stopped_in_kazan(db: Database) -> Product:
    """A category of two products; the first is stop-listed in Kazan."""
    category = await make_category(db)
    product = await make_product(db, category)
    await make_product(db, category, "Pepperoni")
    async with db.unit_of_work() as session:
        session.add(
            StopListEntry(
                product_id=product.id,
                scope="Kazan",
                reason="No basil",
                created_by="test",
                created_at=utcnow(),
            )
        )
    return product


async def test_customers_of_a_city_share_one_completion(
    app_client, settings, db, shelf_stopped_in_kazan
):
    for subject, city in (("anna", "Kazan"), ("boris", "Kazan"), ("carl", "Moscow")):
        await give_coins(db, subject, 1, city=city)
    catalogue = app_client.app.state.catalogue
    answers = {}
    for subject in ("anna", "boris", "carl"):
        body = await gql(app_client, SHELF, bearer=token(settings, subject))
        assert "errors" not in body, body
        answers[subject] = body["data"]
    assert answers["anna"] == answers["boris"]
    assert availability({"data": answers["anna"]}) == [False, True]
    assert availability({"data": answers["carl"]}) == [True, True]
    assert len(kept_subtrees(catalogue)) == 2  # Kazan and Moscow


async def test_variables_aliases_and_documents_are_kept_apart(
    app_client, settings, shelf_stopped_in_kazan
):
    kazan = await gql(app_client, SHELF, {"city": "Kazan"})
    moscow = await gql(app_client, SHELF, {"city": "Moscow"})
    assert availability(kazan) == [False, True]
    assert availability(moscow) == [True, True]
    both = await gql(
        app_client,
        '{ home { k: marketplace(city: "Kazan") { city } m: marketplace(city: "Moscow") '
        "{ city } } }",
    )
    assert both["data"]["home"] == {"k": {"city": "Kazan"}, "m": {"city": "Moscow"}}
    ids = await gql(app_client, TITLES)
    [category] = ids["data"]["home"]["marketplace"]["categories"]["edges"]
    assert list(category["node"]) == ["id"]  # its own shape, not the shelf's kept above
    assert len(kept_subtrees(app_client.app.state.catalogue)) == 5


async def test_a_completion_with_an_error_is_not_kept(app_client, shelf_stopped_in_kazan):
    broken = (
        '{ home { marketplace { categories { edges { node { products(after: "bogus") '
        "{ edges { node { id } } } } } } } } }"
    )
    for _ in range(2):
        body = await gql(app_client, broken)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert kept_subtrees(app_client.app.state.catalogue) == []


async def test_a_kept_shelf_follows_staff_edits(app_client, db, shelf_stopped_in_kazan):
    assert availability(await gql(app_client, SHELF, {"city": "Moscow"})) == [True, True]
    async with db.unit_of_work() as session:
        session.add(
            StopListEntry(
                product_id=shelf_stopped_in_kazan.id,
                scope=EVERYWHERE,
                reason="Recalled",
                created_by="test",
                created_at=utcnow(),
            )
        )
    # Written around the services, as another process would without NOTIFY: kept...
    assert availability(await gql(app_client, SHELF, {"city": "Moscow"})) == [True, True]
    app_client.app.state.catalogue.invalidate()  # ...until the TTL or a NOTIFY drops it
    assert availability(await gql(app_client, SHELF, {"city": "Moscow"})) == [False, True]
