"""Catalogue texts in each language: staff give translations, readers get their own
language where one exists and the item's own text where not."""

from __future__ import annotations

from bff.kernel.auth import Role
from tests.fixtures.graphql import gql, token
from tests.partners.test_catalogue import create_offer, create_partner

READ = """query R($id: ID!) { node(id: $id) { ... on Offer {
  title description terms partner { name categoryName }
  translations { locale title description terms } } } }"""
UPDATE = """mutation U($input: OfferUpdateInput!) { offerUpdate(input: $input) {
  offer { title translations { locale title } } userErrors { code field } } }"""
RU = {"accept-language": "ru"}


async def test_readers_get_their_language_and_the_own_text_otherwise(app_client, settings):
    await create_partner(
        app_client, settings, translations=[{"locale": "RU", "name": "Банк Север"}]
    )
    made = await create_offer(
        app_client,
        settings,
        description="Pay by card",
        translations=[{"locale": "RU", "title": "Откройте карту"}],
    )
    assert made["userErrors"] == []
    offer_id = made["offer"]["id"]
    russian = (await gql(app_client, READ, {"id": offer_id}, headers=RU))["data"]["node"]
    assert russian["title"] == "Откройте карту"
    assert russian["description"] == "Pay by card"  # no translation: the offer's own
    assert russian["partner"] == {"name": "Банк Север", "categoryName": "Банки"}
    assert russian["translations"] == [
        {"locale": "RU", "title": "Откройте карту", "description": None, "terms": None}
    ]
    english = (await gql(app_client, READ, {"id": offer_id}))["data"]["node"]
    assert (english["title"], english["partner"]["name"]) == ("Open a card", "Bank")

    marketer = token(settings, "mia", Role.MARKETING)
    changed = await gql(
        app_client,
        UPDATE,
        {"input": {"id": offer_id, "translations": [{"locale": "RU", "title": "Карта"}]}},
        bearer=marketer,
        headers=RU,
    )
    assert changed["data"]["offerUpdate"]["offer"] == {
        "title": "Карта",
        "translations": [{"locale": "RU", "title": "Карта"}],
    }
    cleared = await gql(
        app_client, UPDATE, {"input": {"id": offer_id, "translations": None}}, bearer=marketer
    )
    assert cleared["data"]["offerUpdate"]["offer"]["translations"] == []


async def test_a_translation_of_a_field_the_item_lacks_or_too_long_is_refused(app_client, settings):
    await create_partner(app_client, settings)
    for translation in (
        {"locale": "RU", "name": "Имя"},  # offers have titles, not names
        {"locale": "RU", "title": "x" * 201},
    ):
        made = await create_offer(app_client, settings, translations=[translation])
        assert made == {
            "offer": None,
            "userErrors": [{"code": "INVALID_TRANSLATION", "field": ["input", "translations"]}],
        }


async def test_gift_translations_reach_the_shelf(app_client, settings):
    admin = token(settings, "boss", Role.ADMIN)
    category = await gql(
        app_client,
        """mutation C($input: MarketplaceCategoryCreateInput!) {
          marketplaceCategoryCreate(input: $input) { category { id } userErrors { code } } }""",
        {
            "input": {
                "title": "Pizza",
                "price": 10,
                "translations": [{"locale": "RU", "title": "Пицца"}],
            }
        },
        bearer=admin,
    )
    category_id = category["data"]["marketplaceCategoryCreate"]["category"]["id"]
    await gql(
        app_client,
        """mutation P($input: MarketplaceProductCreateInput!) {
          marketplaceProductCreate(input: $input) { userErrors { code } } }""",
        {
            "input": {
                "categoryId": category_id,
                "title": "Margherita",
                "translations": [{"locale": "RU", "title": "Маргарита"}],
            }
        },
        bearer=admin,
    )
    shelf = """{ marketplace { categories { edges { node { title price { text }
      products { edges { node { title } } } } } } } }"""
    node = (await gql(app_client, shelf, headers=RU))["data"]["marketplace"]["categories"]["edges"][
        0
    ]["node"]
    assert node == {
        "title": "Пицца",
        "price": {"text": "10 монет"},
        "products": {"edges": [{"node": {"title": "Маргарита"}}]},
    }
    english = (await gql(app_client, shelf))["data"]["marketplace"]["categories"]["edges"][0]
    assert english["node"]["title"] == "Pizza"
    assert english["node"]["price"] == {"text": "10 coins"}
