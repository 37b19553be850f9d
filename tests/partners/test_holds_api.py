"""Paying with points at a partner: hold, capture (partial), void, expiry; the document."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bff.kernel.types import utcnow
from bff.ledger.models import Hold
from bff.ledger.service import LedgerService
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.partners import make_partner, post_signed

HOLDS = "/api/partners/insurer/holds"


@pytest.fixture
async def insurer(app_client, db):
    box = app_client.app.state.secret_box
    partner = await make_partner(db, box, "insurer", kopecks_per_point=100)
    await make_partner(db, box, "bank")  # takes no points
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 1_000)
    return partner, customer


def request(key: str = "policy-77", amount: int = 50_050, customer: str = "anna") -> dict:
    return {"customer_id": customer, "amount": amount, "idempotency_key": key}


async def wallet(db, customer_id: int) -> tuple[int, int]:
    async with db.read() as session:
        found = await LedgerService(session).repository.wallets_by_customer_ids([customer_id])
    return found[0].balance, found[0].held


async def test_hold_then_partial_capture(app_client, db, insurer):
    _, customer = insurer
    created = await post_signed(app_client, HOLDS, request())
    body = created.json()
    assert created.status_code == 201
    assert (body["points"], body["covered_amount"], body["status"]) == (500, 50_000, "active")
    assert await wallet(db, customer.id) == (1_000, 500)
    retry = await post_signed(app_client, HOLDS, request())
    assert (retry.status_code, retry.json()["hold_id"], retry.json()["replayed"]) == (
        200,
        body["hold_id"],
        True,
    )
    conflict = await post_signed(app_client, HOLDS, request(amount=10_000))
    assert conflict.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    captured = await post_signed(
        app_client, f"{HOLDS}/{body['hold_id']}/capture", {"amount": 30_000}
    )
    assert (captured.json()["status"], captured.json()["captured_points"]) == ("captured", 300)
    assert await wallet(db, customer.id) == (700, 0)
    twice = await post_signed(app_client, f"{HOLDS}/{body['hold_id']}/capture", {})
    assert twice.json()["error"]["code"] == "HOLD_NOT_ACTIVE"


async def test_void_and_insufficient_points(app_client, db, insurer):
    _, customer = insurer
    body = (await post_signed(app_client, HOLDS, request())).json()
    voided = await post_signed(app_client, f"{HOLDS}/{body['hold_id']}/void", b"")
    assert voided.json()["status"] == "voided"
    assert await wallet(db, customer.id) == (1_000, 0)
    too_much = await post_signed(app_client, HOLDS, request("big", amount=200_000))
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (422, "INSUFFICIENT_FUNDS")


async def test_holds_expire_and_return_the_points(app_client, db, insurer):
    _, customer = insurer
    body = (await post_signed(app_client, HOLDS, request())).json()
    later = utcnow() + timedelta(hours=1)
    async with db.unit_of_work() as session:
        expired = await LedgerService(session, clock=lambda: later).expire_hold(body["hold_id"])
    assert expired is not None
    assert await wallet(db, customer.id) == (1_000, 0)
    late = await post_signed(app_client, f"{HOLDS}/{body['hold_id']}/capture", {})
    assert late.json()["error"]["code"] == "HOLD_NOT_ACTIVE"


async def test_partners_only_touch_their_own_holds(app_client, db, insurer):
    body = (await post_signed(app_client, HOLDS, request())).json()
    other = await post_signed(app_client, f"/api/partners/bank/holds/{body['hold_id']}/void", b"")
    assert (other.status_code, other.json()["error"]["code"]) == (404, "UNKNOWN_HOLD")
    no_points = await post_signed(app_client, "/api/partners/bank/holds", request())
    assert no_points.json()["error"]["code"] == "POINTS_NOT_ACCEPTED"
    async with db.read() as session:
        hold = await session.get(Hold, body["hold_id"])
    assert hold.status == "active"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (request(amount=0), 400, "MALFORMED"),
        (request(amount=99), 422, "AMOUNT_TOO_SMALL"),
        (request(customer="nobody"), 404, "UNKNOWN_CUSTOMER"),
        ({"customer_id": "anna", "amount": 100}, 400, "MALFORMED"),
    ],
)
async def test_bad_hold_requests(app_client, insurer, payload, status, code):
    response = await post_signed(app_client, HOLDS, payload)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_openapi_document_describes_the_partner_api(app_client):
    document = (await app_client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    served = {
        (route.path, method.lower())
        for route in app_client.app.routes
        if route.path.startswith("/api/") and route.path != "/api/openapi.json"
        for method in route.methods - {"HEAD"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == served  # every signed route, and nothing else
    refs = _refs(document["paths"])
    assert refs <= {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
    assert "X-Signature" in str(document["components"]["securitySchemes"])


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


async def test_a_partner_refunds_part_of_a_captured_payment_once(app_client, db, insurer):
    _, customer = insurer
    hold_id = (await post_signed(app_client, HOLDS, request())).json()["hold_id"]
    await post_signed(app_client, f"{HOLDS}/{hold_id}/capture", {})  # 500 points
    refund = {"amount": 20_000, "idempotency_key": "cancel-77"}
    first = await post_signed(app_client, f"{HOLDS}/{hold_id}/refund", refund)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["refunded_now"], body["refunded_points"], body["replayed"]) == (200, 200, False)
    again = await post_signed(app_client, f"{HOLDS}/{hold_id}/refund", refund)
    assert (again.json()["refunded_now"], again.json()["replayed"]) == (200, True)
    assert await wallet(db, customer.id) == (700, 0)

    too_much = await post_signed(
        app_client, f"{HOLDS}/{hold_id}/refund", {"amount": 40_000, "idempotency_key": "k2"}
    )
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (
        422,
        "REFUND_EXCEEDS_CAPTURE",
    )
    other_body = {"amount": 10_000, "idempotency_key": "cancel-77"}
    conflict = await post_signed(app_client, f"{HOLDS}/{hold_id}/refund", other_body)
    assert conflict.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    foreign = await post_signed(
        app_client,
        f"/api/partners/bank/holds/{hold_id}/refund",
        {"amount": 100, "idempotency_key": "x"},
    )
    assert foreign.status_code == 404
    assert await wallet(db, customer.id) == (700, 0)
