"""Input a client can send and the database cannot hold (64-bit overflows, NUL characters)
gets a typed 4xx or userError, never a 500, and changes nothing."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from bff.kernel.global_ids import MAX_PK, encode_id
from bff.partners.models import PartnerEvent
from tests.fixtures.earning import completed, send
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, post, token
from tests.fixtures.partners import activate, event, make_offer, make_partner, post_signed

HUGE = 2**64 + 5


async def test_ids_and_cursors_beyond_64_bits_name_nothing(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 10)
    bearer = token(settings, "anna")
    for pk in (MAX_PK + 1, HUGE):
        body = await gql(
            app_client,
            "query N($id: ID!) { node(id: $id) { id } }",
            {"id": encode_id("Customer", pk)},
        )
        assert body["data"]["node"] is None, body
        cursor = base64.urlsafe_b64encode(f"cursor:{pk}".encode()).decode().rstrip("=")
        history = await post(
            app_client,
            "query H($after: String) { me { history(first: 5, after: $after) { "
            "edges { cursor } } } }",
            {"after": cursor},
            bearer=bearer,
        )
        assert history.status_code == 200
        assert history.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_hold_ids_beyond_64_bits_are_malformed(app_client, db):
    await make_partner(db, app_client.app.state.secret_box, "insurer", kopecks_per_point=100)
    for hold_id in (str(HUGE), str(MAX_PK + 1), "１２"):
        response = await post_signed(
            app_client, f"/api/partners/insurer/holds/{hold_id}/capture", b""
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "MALFORMED"


async def test_nul_characters_are_refused_everywhere_they_arrive(app_client, settings, db):
    nul_variable = await post(
        app_client,
        "mutation P($input: CustomerProfileUpdateInput!) { customerProfileUpdate(input: $input) "
        "{ userErrors { code } } }",
        {"input": {"displayName": "an\x00na"}},
        bearer=token(settings, "anna"),
    )
    assert nul_variable.status_code == 400, nul_variable.text
    literal = await gql(app_client, '{ customerByExternalId(externalId: "a\\u0000b") { id } }')
    assert "NUL" in literal["errors"][0]["message"]
    assert "data" not in literal or literal["data"] is None
    order = await send(app_client, completed("o\x00-1", "ORD-1", 1_000))
    assert (order.status_code, order.json()["error"]["code"]) == (400, "MALFORMED")
    nameless = await post(app_client, "{ me { id } }", bearer=token(settings, "an\x00na"))
    assert nameless.status_code == 401, nameless.text
    assert nameless.json()["errors"][0]["extensions"]["reason"] == "REFUSED"


async def test_a_partner_event_with_nul_is_rejected_and_the_batch_goes_on(app_client, db):
    partner = await make_partner(db, app_client.app.state.secret_box)
    offer = await make_offer(db, partner)
    await activate(db, offer, "anna")
    batch = [
        event("n-1", offer, customer="an\x00na"),
        {**event("ignored", offer), "id": "n\x002"},
        event("n-3", offer),
    ]
    response = await post_signed(app_client, "/api/partners/bank/events", {"events": batch})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "MALFORMED"),
        ("rejected", "MALFORMED"),
        ("accrued", None),
    ]
    async with db.read() as session:
        kept = await session.scalar(select(func.count()).select_from(PartnerEvent))
    assert kept == 2  # the event without a usable id is answered, not kept
