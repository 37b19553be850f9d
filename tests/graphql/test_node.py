"""``node(id:)`` refetches every Node type through the type's own rule."""

from __future__ import annotations

from datetime import timedelta

from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from bff.kernel.types import utcnow
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, token
from tests.fixtures.marketplace import make_category, make_product
from tests.fixtures.partners import make_offer, make_partner

QUERY = "query N($id: ID!) { node(id: $id) { __typename id } }"


async def refetch(client, settings, type_name: str, pk: int, subject: str = "anna"):
    gid = encode_id(type_name, pk)
    body = await gql(client, QUERY, {"id": gid}, bearer=token(settings, subject))
    node = body["data"]["node"]
    if node is not None:
        assert node == {"__typename": type_name, "id": gid}
    return node


async def test_each_node_type_refetches_by_its_own_rule(app_client, settings, db):
    anna = await make_customer(db, "anna")
    entry = (await accrue(db, anna.id, 10)).entry
    partner = await make_partner(db, app_client.app.state.secret_box)
    offer = await make_offer(db, partner)
    shelf = await make_category(db)
    retired = await make_category(db, "Old", active=False)
    product = await make_product(db, shelf)
    for type_name, pk in [
        ("Customer", anna.id),
        ("LedgerEntry", entry.id),
        ("Partner", partner.id),
        ("Offer", offer.id),
        ("MarketplaceCategory", shelf.id),
        ("MarketplaceProduct", product.id),
    ]:
        assert await refetch(app_client, settings, type_name, pk) is not None, type_name
    # Another customer's objects, an inactive category, a type that is never refetched and
    # a type that does not exist all answer like a missing object.
    assert await refetch(app_client, settings, "Customer", anna.id, "boris") is None
    assert await refetch(app_client, settings, "LedgerEntry", entry.id, "boris") is None
    assert await refetch(app_client, settings, "MarketplaceCategory", retired.id) is None
    assert await refetch(app_client, settings, "Segment", 1) is None
    assert await refetch(app_client, settings, "Wallet", 1) is None
    assert await refetch(app_client, settings, "NoSuchType", 1) is None


async def test_unpublished_offers_are_refetched_only_by_marketing(app_client, settings, db):
    partner = await make_partner(db, app_client.app.state.secret_box)
    inactive = await make_offer(db, partner, title="Draft", active=False)
    later = await make_offer(db, partner, valid_from=utcnow() + timedelta(days=365))
    query = "query N($id: ID!) { node(id: $id) { id } }"
    for offer in (inactive, later):
        gid = encode_id("Offer", offer.id)
        for bearer in (None, token(settings, "anna"), token(settings, "olga", Role.SUPPORT)):
            body = await gql(app_client, query, {"id": gid}, bearer=bearer)
            assert body["data"]["node"] is None, body
        staff = await gql(
            app_client, query, {"id": gid}, bearer=token(settings, "mia", Role.MARKETING)
        )
        assert staff["data"]["node"] == {"id": gid}
