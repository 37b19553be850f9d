"""Partners and offers: staff manage them, customers browse and activate."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bff.kernel.auth import Role
from bff.kernel.types import utcnow
from bff.partners.models import Offer, Partner
from tests.fixtures.earning import completed, send
from tests.fixtures.graphql import error_codes, gql, token

PARTNER = """mutation P($input: PartnerCreateInput!) { partnerCreate(input: $input) {
  partner { id code name category pointValue { kopecks text } logoUrl }
  secret userErrors { code field } } }"""
OFFER = """mutation O($input: OfferCreateInput!) { offerCreate(input: $input) {
  offer { id title unavailableReason reward {
            kind points { amount } percentBasisPoints cap { amount } currency }
          partner { code } } userErrors { code field } } }"""
ACTIVATE = """mutation A($id: ID!) { offerActivate(input: {offerId: $id}) {
  activation { active completions } userErrors { code message } } }"""
DEACTIVATE = """mutation D($id: ID!) { offerDeactivate(input: {offerId: $id}) {
  activation { active } userErrors { code } } }"""


async def create_partner(client, settings, code="bank", category="BANK", **extra):
    admin = token(settings, "boss", Role.ADMIN)
    body = await gql(
        client,
        PARTNER,
        {"input": {"code": code, "name": code.title(), "category": category, **extra}},
        bearer=admin,
    )
    return body["data"]["partnerCreate"]


async def create_offer(client, settings, partner="bank", **extra):
    marketer = token(settings, "mia", Role.MARKETING)
    values = {
        "partnerCode": partner,
        "title": "Open a card",
        "rewardKind": "FIXED",
        "rewardPoints": 300,
        "validFrom": (utcnow() - timedelta(days=1)).isoformat(),
        **extra,
    }
    body = await gql(client, OFFER, {"input": values}, bearer=marketer)
    return body["data"]["offerCreate"]


async def test_admin_creates_a_partner_whose_secret_is_shown_once(app_client, db, settings):
    created = await create_partner(app_client, settings, kopecksPerPoint=100)
    assert created["userErrors"] == []
    assert len(created["secret"]) >= 40
    assert created["partner"]["pointValue"] == {"kopecks": 100, "text": "₽1.00"}
    async with db.read() as session:
        stored = (await session.scalars(select(Partner))).one()
    assert created["secret"] not in stored.secret_encrypted
    again = await create_partner(app_client, settings)
    assert again["userErrors"] == [{"code": "CODE_TAKEN", "field": ["input", "code"]}]
    bad = await create_partner(app_client, settings, code="Bad!")
    assert bad["userErrors"][0]["code"] == "INVALID_CODE"
    http = await create_partner(app_client, settings, code="shop", logoUrl="http://x/logo.png")
    assert http["userErrors"][0]["code"] == "INVALID_REWARD"
    own = await create_partner(
        app_client, settings, code="shop", logoUrl="/webviews/static/demo-bank.svg"
    )
    assert own["userErrors"] == []
    base = f"http://{settings.host}:{settings.port}"
    assert own["partner"]["logoUrl"] == f"{base}/webviews/static/demo-bank.svg"


async def test_secret_rotation_replaces_the_secret(app_client, db, settings):
    first = (await create_partner(app_client, settings))["secret"]
    rotate = (
        'mutation { partnerSecretRotate(input: {code: "bank"}) { secret userErrors { code } } }'
    )
    body = await gql(app_client, rotate, bearer=token(settings, "boss", Role.ADMIN))
    second = body["data"]["partnerSecretRotate"]["secret"]
    assert second
    assert second != first
    marketer = await gql(app_client, rotate, bearer=token(settings, "mia", Role.MARKETING))
    assert error_codes(marketer) == ["FORBIDDEN"]


async def test_offers_are_validated(app_client, settings):
    await create_partner(app_client, settings)
    cases = [
        ({"rewardPoints": 0}, "INVALID_REWARD"),
        ({"rewardKind": "PERCENT", "rewardPoints": None}, "INVALID_REWARD"),
        ({"validTo": (utcnow() - timedelta(days=2)).isoformat()}, "INVALID_WINDOW"),
        ({"partnerCode": "nope"}, "NOT_FOUND"),
        ({"budget": -1}, "INVALID_REWARD"),
    ]
    for extra, code in cases:
        result = await create_offer(app_client, settings, **extra)
        assert [e["code"] for e in result["userErrors"]] == [code], extra


async def test_customers_browse_partners_and_offers(app_client, settings):
    await create_partner(app_client, settings, "bank", "BANK")
    await create_partner(app_client, settings, "mobile", "TELECOM")
    for number in range(3):
        await create_offer(app_client, settings, "bank", title=f"Bank {number}")
    await create_offer(
        app_client,
        settings,
        "mobile",
        title="Mobile",
        rewardKind="PERCENT",
        rewardPoints=None,
        rewardPercentBasisPoints=500,
        rewardCap=1000,
    )
    await create_offer(
        app_client,
        settings,
        "mobile",
        title="Later",
        validFrom=(utcnow() + timedelta(days=5)).isoformat(),
    )
    query = """query Q($first: Int, $after: String, $filter: OfferFilter) {
      offers(first: $first, after: $after, filter: $filter) {
        edges { node { title unavailableCode unavailableReason partner { code category } } }
        pageInfo { hasNextPage endCursor } } }"""
    first = (await gql(app_client, query, {"first": 2}))["data"]["offers"]
    assert [e["node"]["title"] for e in first["edges"]] == ["Bank 0", "Bank 1"]
    rest = (await gql(app_client, query, {"first": 10, "after": first["pageInfo"]["endCursor"]}))[
        "data"
    ]
    assert [e["node"]["title"] for e in rest["offers"]["edges"]] == ["Bank 2", "Mobile"]
    telecom = await gql(app_client, query, {"filter": {"category": "TELECOM", "activeOnly": False}})
    assert [
        (e["node"]["title"], e["node"]["unavailableCode"], e["node"]["unavailableReason"])
        for e in telecom["data"]["offers"]["edges"]
    ] == [("Mobile", None, None), ("Later", "NOT_STARTED", "This offer has not started yet.")]
    # The page is shared between requests; its words are each request's own.
    russian = await gql(
        app_client,
        query,
        {"filter": {"category": "TELECOM", "activeOnly": False}},
        headers={"accept-language": "ru"},
    )
    later = russian["data"]["offers"]["edges"][1]["node"]
    assert (later["unavailableCode"], later["unavailableReason"]) == (
        "NOT_STARTED",
        "Это предложение ещё не началось.",
    )
    partners = await gql(
        app_client, "{ partners { edges { node { code offers { edges { node { title } } } } } } }"
    )
    assert [e["node"]["code"] for e in partners["data"]["partners"]["edges"]] == ["bank", "mobile"]


async def test_activation_rules(app_client, db, settings):
    await create_partner(app_client, settings)
    open_offer = (await create_offer(app_client, settings, perCustomerLimit=1))["offer"]["id"]
    later = (
        await create_offer(
            app_client, settings, validFrom=(utcnow() + timedelta(days=1)).isoformat()
        )
    )["offer"]["id"]
    kazan = (await create_offer(app_client, settings, cities=["kazan"]))["offer"]["id"]
    gold = (await create_offer(app_client, settings, levels=["GOLD"]))["offer"]["id"]
    await send(app_client, completed("e1", "A-1", 1_000, customer="anna", city="moscow"))
    anna = token(settings, "anna")

    async def codes(mutation, offer_id):
        body = await gql(app_client, mutation, {"id": offer_id}, bearer=anna)
        payload = next(iter(body["data"].values()))
        return [e["code"] for e in payload["userErrors"]]

    assert await codes(ACTIVATE, open_offer) == []
    assert await codes(ACTIVATE, open_offer) == ["ALREADY_ACTIVATED"]
    assert await codes(ACTIVATE, later) == ["OFFER_NOT_STARTED"]
    assert await codes(ACTIVATE, kazan) == ["NOT_TARGETED"]
    assert await codes(ACTIVATE, gold) == ["NOT_TARGETED"]
    assert await codes(ACTIVATE, "bm9wZQ") == ["NOT_FOUND"]
    assert await codes(DEACTIVATE, later) == ["NOT_ACTIVATED"]
    mine = await gql(
        app_client,
        "{ me { activeOffers { edges { node { id activation { active completions } } } } } }",
        bearer=anna,
    )
    assert mine["data"]["me"]["activeOffers"]["edges"] == [
        {"node": {"id": open_offer, "activation": {"active": True, "completions": 0}}}
    ]
    assert await codes(DEACTIVATE, open_offer) == []
    async with db.unit_of_work() as session:
        offer = (await session.scalars(select(Offer).order_by(Offer.id))).first()
        offer.budget, offer.budget_spent = 100, 100
    assert await codes(ACTIVATE, open_offer) == ["OFFER_EXHAUSTED"]
    anonymous = await gql(app_client, ACTIVATE, {"id": open_offer})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_catalogue_staff_roles(app_client, settings):
    customer = token(settings, "anna")
    body = await gql(
        app_client,
        PARTNER,
        {"input": {"code": "x1", "name": "X", "category": "OTHER"}},
        bearer=customer,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    marketer = await gql(
        app_client,
        PARTNER,
        {"input": {"code": "x1", "name": "X", "category": "OTHER"}},
        bearer=token(settings, "mia", Role.MARKETING),
    )
    assert error_codes(marketer) == ["FORBIDDEN"]
    offer = await gql(
        app_client,
        OFFER,
        {
            "input": {
                "partnerCode": "x",
                "title": "t",
                "rewardKind": "FIXED",
                "validFrom": utcnow().isoformat(),
            }
        },
        bearer=token(settings, "s", Role.SUPPORT),
    )
    assert error_codes(offer) == ["FORBIDDEN"]


async def test_node_finds_partners_and_offers(app_client, settings):
    partner = (await create_partner(app_client, settings))["partner"]["id"]
    offer = (await create_offer(app_client, settings))["offer"]["id"]
    query = (
        "query N($id: ID!) { node(id: $id) { id ... on Offer { title } ... on Partner { code } } }"
    )
    assert (await gql(app_client, query, {"id": offer}))["data"]["node"]["title"] == "Open a card"
    assert (await gql(app_client, query, {"id": partner}))["data"]["node"]["code"] == "bank"


async def test_explicit_null_for_a_required_field_is_a_bad_request(app_client, db, settings):
    await create_partner(app_client, settings)
    offer = (await create_offer(app_client, settings))["offer"]
    admin = token(settings, "boss", Role.ADMIN)
    cases = [
        ("partnerUpdate", "PartnerUpdateInput", {"code": "bank", "name": None}, "name"),
        ("partnerUpdate", "PartnerUpdateInput", {"code": "bank", "active": None}, "active"),
        ("offerUpdate", "OfferUpdateInput", {"id": offer["id"], "title": None}, "title"),
        ("offerUpdate", "OfferUpdateInput", {"id": offer["id"], "active": None}, "active"),
    ]
    for mutation, kind, values, field in cases:
        selection = f"{mutation}(input: $input) {{ userErrors {{ code }} }}"
        query = f"mutation M($input: {kind}!) {{ {selection} }}"
        body = await gql(app_client, query, {"input": values}, bearer=admin)
        assert error_codes(body) == ["BAD_USER_INPUT"], (mutation, field, body)
        assert f"`{field}` cannot be null" in body["errors"][0]["message"]
    async with db.read() as session:
        stored = (await session.scalars(select(Offer))).one()
        partner = (await session.scalars(select(Partner))).one()
    assert (stored.title, partner.name, partner.active) == ("Open a card", "Bank", True)
