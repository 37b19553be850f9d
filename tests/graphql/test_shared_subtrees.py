"""The marketplace shelf and pages of offers are completed once per key, document and
variables, then served from the catalogue cache, each request filling in its own viewer
fields (activations); what differs never shares an entry, and errors are not kept."""

from __future__ import annotations

import asyncio

import pytest
import strawberry

from bff.graphql.execution import VIEWER, SharingExecutionContext, viewer_fields
from bff.kernel.catalogue import CatalogueCache
from bff.kernel.db import Database
from bff.kernel.types import utcnow
from bff.marketplace.models import EVERYWHERE, Product, StopListEntry
from tests.fixtures.graphql import gql, token
from tests.fixtures.marketplace import give_coins, make_category, make_product
from tests.fixtures.partners import activate, make_offer, make_partner, offer_gid

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


OFFERS = """{ home { offers(first: 5) { edges { node { title partner { name }
  activation { active completions } } } } } }"""
NESTED = """{ offers { edges { node { title mine: activation { active }
  partner { offers { edges { node { title activation { active } } } } } } } } }"""
ACTIVATE = """mutation A($id: ID!) { offerActivate(input: {offerId: $id}) {
  activation { active } userErrors { code } } }"""


def activations(body: dict) -> dict[str, object]:
    edges = body["data"]["home"]["offers"]["edges"]
    return {edge["node"]["title"]: edge["node"]["activation"] for edge in edges}


@pytest.fixture
async def two_offers(app_client, db):
    partner = await make_partner(db, app_client.app.state.secret_box)
    return [await make_offer(db, partner, title=title) for title in ("Card", "Loan")]


async def test_a_page_of_offers_is_shared_and_each_viewer_sees_their_activations(
    app_client, settings, db, two_offers
):
    card, loan = two_offers
    await activate(db, card, "anna")
    await activate(db, loan, "boris")
    seen = {}
    for subject in ("anna", "boris", "carl", None):
        bearer = token(settings, subject) if subject else None
        body = await gql(app_client, OFFERS, bearer=bearer)
        assert "errors" not in body, body
        seen[subject] = activations(body)
    active = {"active": True, "completions": 0}
    assert seen["anna"] == {"Card": active, "Loan": None}
    assert seen["boris"] == {"Card": None, "Loan": active}
    assert seen["carl"] == seen[None] == {"Card": None, "Loan": None}
    [kept] = kept_subtrees(app_client.app.state.catalogue)  # one page for all four
    assert kept[3][0] == "offers"


async def test_an_activation_shows_at_once_on_a_kept_page(app_client, settings, two_offers):
    card, _loan = two_offers
    anna = token(settings, "anna")
    assert activations(await gql(app_client, OFFERS, bearer=anna))["Card"] is None
    done = await gql(app_client, ACTIVATE, {"id": offer_gid(card)}, bearer=anna)
    assert done["data"]["offerActivate"]["userErrors"] == []
    assert len(kept_subtrees(app_client.app.state.catalogue)) == 1  # still kept...
    after = activations(await gql(app_client, OFFERS, bearer=anna))
    assert after["Card"] == {"active": True, "completions": 0}  # ...its hole is not


async def test_viewer_fields_below_nested_pages_and_aliases_are_each_viewers(
    app_client, settings, db, two_offers
):
    card, _loan = two_offers
    await activate(db, card, "anna")
    answers = {}
    for subject in ("anna", "boris", "anna"):
        body = await gql(app_client, NESTED, bearer=token(settings, subject))
        assert "errors" not in body, body
        answers.setdefault(subject, []).append(body["data"])
    assert answers["anna"][0] == answers["anna"][1]
    [first, second] = answers["anna"][0]["offers"]["edges"]
    assert first["node"]["mine"] == {"active": True}
    assert second["node"]["mine"] is None
    nested = first["node"]["partner"]["offers"]["edges"]
    assert [edge["node"]["activation"] for edge in nested] == [{"active": True}, None]
    for edge in answers["boris"][0]["offers"]["edges"]:
        assert edge["node"]["mine"] is None
        assert all(
            e["node"]["activation"] is None for e in edge["node"]["partner"]["offers"]["edges"]
        )
    # The nested pages are part of the outer one's template, not kept apart.
    assert len(kept_subtrees(app_client.app.state.catalogue)) == 1


async def test_a_customers_own_list_of_offers_is_not_shared(app_client, settings, db, two_offers):
    card, loan = two_offers
    await activate(db, card, "anna")
    await activate(db, loan, "boris")
    mine = "{ me { activeOffers { edges { node { title } } } } }"
    titles = {}
    for subject in ("anna", "boris"):
        body = await gql(app_client, mine, bearer=token(settings, subject))
        titles[subject] = [e["node"]["title"] for e in body["data"]["me"]["activeOffers"]["edges"]]
    assert titles == {"anna": ["Card"], "boris": ["Loan"]}
    assert kept_subtrees(app_client.app.state.catalogue) == []


async def test_a_page_read_while_the_catalogue_changed_is_not_kept(
    app_client, settings, two_offers
):
    catalogue = app_client.app.state.catalogue
    real_get = catalogue.get

    async def get_during_an_edit(key, load, generation=None):
        catalogue.invalidate()  # a staff edit lands while this request runs
        return await real_get(key, load, generation)

    catalogue.get = get_during_an_edit
    try:
        body = await gql(app_client, OFFERS, bearer=token(settings, "anna"))
    finally:
        catalogue.get = real_get
    assert activations(body) == {"Card": None, "Loan": None}
    kept = [key for key in catalogue._entries if key[0] in ("offers", "subtree")]
    assert kept == []  # neither the page nor its completion (rows read after may stay)


@strawberry.type
class Thing:
    @strawberry.field(metadata={VIEWER: True})
    def mine(self) -> int:
        return 1


@strawberry.type
class ThingQuery:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing()


def test_a_viewer_field_must_be_nullable():
    with pytest.raises(TypeError, match=r"Thing\.mine must be nullable"):
        viewer_fields(strawberry.Schema(query=ThingQuery)._schema)


async def test_requests_that_miss_together_wait_for_one_completion(
    app_client, settings, db, two_offers, monkeypatch
):
    await activate(db, two_offers[0], "anna")
    completions = []
    keep = SharingExecutionContext._keep

    def counted_keep(self, *args):
        completions.append(args[3][3])  # the shared key
        return keep(self, *args)

    monkeypatch.setattr(SharingExecutionContext, "_keep", counted_keep)
    subjects = ["anna", "boris"] * 8
    bodies = await asyncio.gather(
        *(gql(app_client, OFFERS, bearer=token(settings, subject)) for subject in subjects)
    )
    assert len(completions) == 1, completions
    for subject, body in zip(subjects, bodies, strict=True):
        expected = {"active": True, "completions": 0} if subject == "anna" else None
        assert activations(body) == {"Card": expected, "Loan": None}


async def test_waiting_requests_complete_on_their_own_when_the_first_one_fails(
    app_client, settings, shelf_stopped_in_kazan
):
    broken = (
        '{ home { marketplace(city: "Kazan") { categories { edges { node { products(after: '
        '"bogus") { edges { node { id } } } } } } } } }'
    )
    bodies = await asyncio.gather(*(gql(app_client, broken) for _ in range(4)))
    for body in bodies:  # each has its own error, at its own path
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert kept_subtrees(app_client.app.state.catalogue) == []
