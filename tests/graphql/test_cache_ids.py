"""Objects a client caches carry a stable id, and the same thing has the same id wherever
it appears (Apollo's cache keeps one entry per __typename and id)."""

from __future__ import annotations

from bff.kernel.auth import Role
from tests.fixtures.earning import make_rule
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import error_codes, gql, token

IDS = """{
  me { wallets { id currency } level { id current { id code } next { id } } }
  home { wallets { id currency } level { id current { id } } }
  currencies { id code }
  levels { id code }
}"""


async def test_cached_objects_have_one_id_wherever_they_appear(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 10)  # a POINTS wallet row; COINS has none yet
    body = await gql(app_client, IDS, bearer=token(settings, "anna"))
    assert "errors" not in body, body
    data = body["data"]
    me_wallets = {w["currency"]: w["id"] for w in data["me"]["wallets"]}
    home_wallets = {w["currency"]: w["id"] for w in data["home"]["wallets"]}
    assert me_wallets == home_wallets
    assert len(set(me_wallets.values())) == len(me_wallets)
    assert data["me"]["level"]["id"] == data["home"]["level"]["id"]
    levels = {level["code"]: level["id"] for level in data["levels"]}
    assert data["me"]["level"]["current"]["id"] == levels[data["me"]["level"]["current"]["code"]]
    assert len(set(levels.values())) == len(levels)
    assert len({c["id"] for c in data["currencies"]}) == len(data["currencies"])

    other = await gql(app_client, IDS, bearer=token(settings, "boris"))
    theirs = {w["id"] for w in other["data"]["me"]["wallets"]}
    assert theirs.isdisjoint(me_wallets.values())  # another customer's wallets differ

    node = await gql(
        app_client, "query($id: ID!) { node(id: $id) { id } }", {"id": me_wallets["POINTS"]}
    )
    assert (node["data"], "errors" in node) == ({"node": None}, False)


async def test_accrual_rules_are_refetched_by_admins_only(app_client, settings, db):
    rule = await make_rule(db, "coins")
    admin = token(settings, "boss", Role.ADMIN)
    listed = await gql(app_client, "{ accrualRules { id code } }", bearer=admin)
    rule_id = listed["data"]["accrualRules"][0]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on AccrualRule { code } } }"
    found = await gql(app_client, query, {"id": rule_id}, bearer=admin)
    assert found["data"]["node"] == {"id": rule_id, "code": rule.code}
    for bearer in (token(settings, "anna"), token(settings, "sam", Role.SUPPORT), None):
        hidden = await gql(app_client, query, {"id": rule_id}, bearer=bearer)
        assert (hidden["data"]["node"], error_codes(hidden)) == (None, [])
