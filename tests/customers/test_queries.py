"""`me`, history paging, `node` and the staff lookup, over HTTP."""

from __future__ import annotations

from datetime import timedelta

from bff.kernel.auth import Role, issue_dev_token
from bff.kernel.global_ids import encode_id
from tests.conftest import counting_statements
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import error_codes, gql, post, token

ME = """
query Me($first: Int, $after: String, $currency: CurrencyCode) {
  me {
    id externalId
    wallets { currency balance available held pending version expiringSoon { amount at } }
    history(first: $first, after: $after, currency: $currency) {
      edges { cursor node {
        id kind amount { amount currency text } balanceAfter { amount } version reason actor } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def test_me_is_null_without_a_token(app_client):
    body = await gql(app_client, "{ me { id } }")
    assert (body["data"], "errors" in body) == ({"me": None}, False)


async def test_a_refused_token_is_never_answered_as_anonymous(app_client, settings):
    expired = issue_dev_token(settings, "anna", ttl_seconds=-3600)
    for bearer, problem in [("not.a.token", "MALFORMED_TOKEN"), (expired, "EXPIRED")]:
        for accept in ("application/json", "application/graphql-response+json"):
            response = await post(
                app_client,
                "{ me { id } partners { id } }",
                bearer=bearer,
                headers={"accept": accept},
            )
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == (
                f'Bearer error="invalid_token", error_description="{problem}"'
            )
            body = response.json()
            assert body.get("data") is None  # nothing ran, not even the public fields
            assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": problem}
    scheme = await post(app_client, "{ me { id } }", headers={"authorization": "Basic eDp5"})
    assert scheme.json()["errors"][0]["extensions"]["reason"] == "MALFORMED_HEADER"


async def test_without_a_token_a_request_is_anonymous(app_client):
    body = await gql(app_client, "{ me { id } }")
    assert (body["data"], "errors" in body) == ({"me": None}, False)


async def test_first_sight_creates_the_customer_with_empty_wallets(app_client, settings):
    body = await gql(app_client, ME, bearer=token(settings, "new-subject"))
    me = body["data"]["me"]
    assert me["externalId"] == "new-subject"
    assert [(w["currency"], w["balance"], w["version"]) for w in me["wallets"]] == [
        ("COINS", 0, 0),
        ("POINTS", 0, 0),
    ]
    assert me["history"] == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


async def test_wallets_show_holds_and_the_soonest_expiry(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 100, expires_in=timedelta(days=3))
    await accrue(db, customer.id, 20, expires_in=timedelta(days=3))
    await accrue(db, customer.id, 50, expires_in=timedelta(days=9))
    body = await gql(app_client, ME, bearer=token(settings, "anna"))
    points = body["data"]["me"]["wallets"][1]
    assert (points["balance"], points["available"], points["version"]) == (170, 170, 3)
    assert points["expiringSoon"]["amount"] == 120


async def test_history_pages_with_keyset_cursors(app_client, settings, db):
    customer = await make_customer(db, "anna")
    for amount in range(1, 8):
        await accrue(db, customer.id, amount)
    await accrue(db, customer.id, 5, currency="COINS")
    bearer = token(settings, "anna")
    seen, after = [], None
    while True:
        body = await gql(app_client, ME, {"first": 3, "after": after}, bearer=bearer)
        history = body["data"]["me"]["history"]
        seen += [edge["node"]["amount"]["amount"] for edge in history["edges"]]
        if not history["pageInfo"]["hasNextPage"]:
            break
        after = history["pageInfo"]["endCursor"]
    assert seen == [5, 7, 6, 5, 4, 3, 2, 1]
    coins = await gql(app_client, ME, {"currency": "COINS"}, bearer=bearer)
    coin_entries = [e["node"]["amount"] for e in coins["data"]["me"]["history"]["edges"]]
    assert coin_entries == [{"amount": 5, "currency": "COINS", "text": "5 coins"}]


async def test_bad_paging_arguments_are_typed_errors(app_client, settings):
    bearer = token(settings, "anna")
    for variables in ({"first": 101}, {"first": -1}, {"after": "bm9wZQ"}, {"after": "%%%"}):
        body = await gql(app_client, ME, variables, bearer=bearer)
        assert error_codes(body) == ["BAD_USER_INPUT"], variables


async def test_me_costs_the_same_statements_however_much_data(app_client, settings, db):
    small = await make_customer(db, "small")
    await accrue(db, small.id, 5, expires_in=timedelta(days=1))
    big = await make_customer(db, "big")
    for amount in range(1, 40):
        await accrue(db, big.id, amount, expires_in=timedelta(days=amount))
        await accrue(db, big.id, amount, currency="COINS")
    counts = []
    for subject in ("small", "big"):
        bearer = token(settings, subject)
        await gql(app_client, "{ me { id } }", bearer=bearer)  # first sight, cached after
        with counting_statements(app_client.app) as counter:
            body = await gql(app_client, ME, {"first": 50}, bearer=bearer)
        assert "errors" not in body
        counts.append(counter.count)
    # customer row, wallets, soonest expiry per wallet, pending accruals per customer,
    # history page; plus the enabled currencies the first time (then from the catalogue
    # cache)
    assert counts == [6, 5]


async def test_node_refetches_own_objects_only(app_client, settings, db):
    anna = await make_customer(db, "anna")
    boris = await make_customer(db, "boris")
    anna_entry = (await accrue(db, anna.id, 10)).entry
    boris_entry = (await accrue(db, boris.id, 99)).entry
    query = "query N($id: ID!) { node(id: $id) { id ... on LedgerEntry { amount { amount } } } }"
    bearer = token(settings, "anna")
    own = await gql(
        app_client, query, {"id": encode_id("LedgerEntry", anna_entry.id)}, bearer=bearer
    )
    assert own["data"]["node"]["amount"] == {"amount": 10}
    for foreign in (
        encode_id("LedgerEntry", boris_entry.id),
        encode_id("Customer", boris.id),
        encode_id("LedgerEntry", 10_000),
        encode_id("Wallet", 1),
    ):
        body = await gql(app_client, query, {"id": foreign}, bearer=bearer)
        assert (body["data"], "errors" in body) == ({"node": None}, False), foreign
    anonymous = await gql(app_client, query, {"id": encode_id("Customer", anna.id)})
    assert (anonymous["data"], "errors" in anonymous) == ({"node": None}, False)
    malformed = await gql(app_client, query, {"id": "@@"}, bearer=bearer)
    assert error_codes(malformed) == ["BAD_USER_INPUT"]


async def test_staff_sees_any_customer_through_node_and_lookup(app_client, settings, db):
    boris = await make_customer(db, "boris")
    await accrue(db, boris.id, 99)
    staff = token(settings, "staff-1", Role.SUPPORT)
    lookup = """{ customerByExternalId(externalId: "boris") {
        id wallets { currency balance } history { edges { node { amount { amount } } } } } }"""
    body = await gql(app_client, lookup, bearer=staff)
    found = body["data"]["customerByExternalId"]
    assert found["id"] == encode_id("Customer", boris.id)
    assert found["wallets"][1] == {"currency": "POINTS", "balance": 99}
    assert found["history"]["edges"] == [{"node": {"amount": {"amount": 99}}}]
    missing = await gql(app_client, lookup.replace("boris", "nobody"), bearer=staff)
    assert (missing["data"], "errors" in missing) == ({"customerByExternalId": None}, False)
    node = await gql(
        app_client, "query N($id: ID!) { node(id: $id) { id } }", {"id": found["id"]}, bearer=staff
    )
    assert node["data"]["node"]["id"] == found["id"]


async def test_staff_lookup_needs_the_support_role(app_client, settings, db):
    await make_customer(db, "boris")
    lookup = '{ customerByExternalId(externalId: "boris") { id } }'
    for bearer, code in (
        (None, "UNAUTHENTICATED"),
        (token(settings, "boris"), "FORBIDDEN"),
        (token(settings, "marketer", Role.MARKETING), "FORBIDDEN"),
    ):
        body = await gql(app_client, lookup, bearer=bearer)
        assert body["data"] == {"customerByExternalId": None}
        assert error_codes(body) == [code]
    admin = await gql(app_client, lookup, bearer=token(settings, "boss", Role.ADMIN))
    assert admin["data"]["customerByExternalId"]["id"]


async def test_staff_token_has_no_me(app_client, settings):
    body = await gql(app_client, "{ me { id } }", bearer=token(settings, "s", Role.SUPPORT))
    assert (body["data"], "errors" in body) == ({"me": None}, False)


async def test_profile_update(app_client, settings):
    mutation = """mutation U($input: CustomerProfileUpdateInput!) {
      customerProfileUpdate(input: $input) {
        customer { displayName locale } userErrors { code field message } } }"""
    bearer = token(settings, "anna")
    ok = await gql(
        app_client, mutation, {"input": {"displayName": " Anna ", "locale": "RU"}}, bearer=bearer
    )
    assert ok["data"]["customerProfileUpdate"] == {
        "customer": {"displayName": "Anna", "locale": "RU"},
        "userErrors": [],
    }
    bad = await gql(app_client, mutation, {"input": {"locale": "DE"}}, bearer=bearer)
    assert (bad["data"], error_codes(bad)) == (None, ["BAD_USER_INPUT"])
    assert "'Locale' enum" in bad["errors"][0]["message"]  # not a language it has
    anonymous = await gql(app_client, mutation, {"input": {"locale": "EN"}})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    malformed = await post(app_client, mutation, {"input": {"locale": "EN"}}, bearer="x.y.z")
    assert malformed.status_code == 401
    assert malformed.json()["errors"][0]["message"] == "the token is not a well-formed JWT"
