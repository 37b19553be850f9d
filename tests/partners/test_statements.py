"""`GET /api/partners/{code}/events` and `/holds`: a partner reconciles what it sent with
what was applied, page by page, and sees nothing of another partner's."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bff.kernel.signing import sign
from bff.kernel.types import utcnow
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.partners import (
    PARTNER_SECRET,
    activate,
    event,
    make_offer,
    make_partner,
    offer_gid,
    post_signed,
)


async def get_signed(
    client: httpx.AsyncClient, path: str, params: dict[str, Any] | None = None, **signing: Any
) -> httpx.Response:
    """Signed as the partner's other requests are, over the empty body."""
    stamp = int(time.time())
    secret = signing.get("secret", PARTNER_SECRET)
    headers = {"x-timestamp": str(stamp), "x-signature": sign(secret, stamp, b"")}
    return await client.get(path, params=params, headers=headers)


async def pages(client: httpx.AsyncClient, path: str, key: str, **params: Any) -> list[list]:
    found, after = [], None
    while True:
        query = {**params, **({"after": after} if after else {})}
        response = await get_signed(client, path, query)
        assert response.status_code == 200, response.text
        body = response.json()
        found.append(body[key])
        after = body["next"]
        if after is None:
            return found


@pytest.fixture
async def partners(app_client, db):
    box = app_client.app.state.secret_box
    bank = await make_partner(db, box, "bank", kopecks_per_point=100)
    other = await make_partner(db, box, "other", kopecks_per_point=100)
    offer = await make_offer(db, bank)
    await activate(db, offer, "anna")
    customer = await make_customer(db, "boris")
    await accrue(db, customer.id, 1_000)
    return bank, other, offer


async def test_a_partner_pages_through_what_became_of_its_events(app_client, partners):
    _, _, offer = partners
    batch = {
        "events": [
            event("e-1", offer),
            event("e-2", offer, customer="vera"),  # not activated
            {"id": "e-3", "type": "offer.completed"},  # malformed
            event("e-1", offer),  # a duplicate is answered, not stored twice
            event("e-4", offer),
        ]
    }
    assert (await post_signed(app_client, "/api/partners/bank/events", batch)).status_code == 200
    await post_signed(app_client, "/api/partners/other/events", event("theirs", offer))

    found = await pages(app_client, "/api/partners/bank/events", "events", limit=2)
    assert [len(page) for page in found] == [2, 2, 0]  # a full page says more may follow
    events = [item for page in found for item in page]
    assert [(e["id"], e["status"], e["reason"]) for e in events] == [
        ("e-1", "accrued", None),
        ("e-2", "rejected", "NOT_ACTIVATED"),
        ("e-3", "rejected", "MALFORMED"),
        ("e-4", "accrued", None),
    ]
    first = events[0]
    assert (first["customer_id"], first["offer_id"], first["points"]) == (
        "anna",
        offer_gid(offer),
        100,
    )

    later = (utcnow() + timedelta(minutes=1)).isoformat()
    empty = await get_signed(app_client, "/api/partners/bank/events", {"since": later})
    assert empty.json() == {"events": [], "next": None}
    before = await get_signed(app_client, "/api/partners/bank/events", {"until": later})
    assert len(before.json()["events"]) == len(events)


async def test_a_partner_reconciles_its_holds_and_nobody_elses(app_client, partners):
    hold = {"customer_id": "boris", "amount": 20_000, "idempotency_key": "cart-1"}
    made = await post_signed(app_client, "/api/partners/bank/holds", hold)
    second = await post_signed(
        app_client, "/api/partners/bank/holds", hold | {"idempotency_key": "cart-2"}
    )
    await post_signed(app_client, "/api/partners/other/holds", hold | {"idempotency_key": "x"})
    hold_id = made.json()["hold_id"]
    await post_signed(app_client, f"/api/partners/bank/holds/{hold_id}/capture", {"amount": 5_000})

    found = await pages(app_client, "/api/partners/bank/holds", "holds", limit=1)
    holds = [item for page in found for item in page]
    assert [(h["hold_id"], h["status"], h["captured_points"]) for h in holds] == [
        (hold_id, "captured", 50),
        (second.json()["hold_id"], "active", 0),
    ]
    assert holds[0]["customer_id"] == "boris"
    assert holds[0]["resolved_at"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "-1"}, "after"),
        ({"after": "9" * 30}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-12-01T10:00:00"}, "until"),  # no zone
        ({"since": "0001-01-01T00:00:00+00:00"}, "since"),
    ],
)
async def test_malformed_statement_queries_name_the_parameter(app_client, partners, params, field):
    response = await get_signed(app_client, "/api/partners/bank/events", params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


async def test_statements_are_signed(app_client, partners):
    forged = await get_signed(app_client, "/api/partners/bank/holds", secret="guess")
    assert forged.status_code == 401
    unknown = await get_signed(app_client, "/api/partners/nobody/events")
    assert unknown.status_code == 404
