"""`balanceAdjust` over HTTP: roles, typed errors, idempotency, languages."""

from __future__ import annotations

from sqlalchemy import func, select

from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from bff.ledger.models import LedgerEntry, Wallet
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import error_codes, gql, post, token

ADJUST = """
mutation Adjust($input: BalanceAdjustInput!) {
  balanceAdjust(input: $input) {
    entry { id kind amount { amount } balanceAfter { amount } reason actor }
    wallet { currency balance available version }
    replayed
    userErrors { code field message }
  }
}
"""


def adjust_input(customer_id: int, **overrides) -> dict:
    values = {
        "customerId": encode_id("Customer", customer_id),
        "currency": "POINTS",
        "amount": 250,
        "reason": "Goodwill for a late delivery",
        "idempotencyKey": "ticket-1001",
    }
    return {"input": {**values, **overrides}}


async def stored(db) -> tuple[int, list[tuple[str, int]]]:
    async with db.read() as session:
        count = await session.scalar(select(func.count(LedgerEntry.id)))
        wallets = (await session.execute(select(Wallet.currency, Wallet.balance))).all()
    return int(count or 0), sorted((c, b) for c, b in wallets)


async def test_support_corrects_a_balance_with_reason_and_actor(app_client, settings, db):
    customer = await make_customer(db, "anna")
    staff = token(settings, "olga", Role.SUPPORT)
    body = await gql(app_client, ADJUST, adjust_input(customer.id), bearer=staff)
    payload = body["data"]["balanceAdjust"]
    assert payload["userErrors"] == []
    assert payload["replayed"] is False
    assert payload["entry"]["kind"] == "ADJUST"
    assert (payload["entry"]["amount"], payload["entry"]["actor"]) == ({"amount": 250}, "olga")
    assert payload["wallet"] == {
        "currency": "POINTS",
        "balance": 250,
        "available": 250,
        "version": 1,
    }
    # The customer sees the reason but not who on the staff posted it.
    me = await gql(
        app_client,
        "{ me { history { edges { node { reason actor } } } } }",
        bearer=token(settings, "anna"),
    )
    assert me["data"]["me"]["history"]["edges"] == [
        {"node": {"reason": "Goodwill for a late delivery", "actor": None}}
    ]


async def test_retry_returns_the_first_result_and_other_input_conflicts(app_client, settings, db):
    customer = await make_customer(db, "anna")
    staff = token(settings, "olga", Role.SUPPORT)
    first = await gql(app_client, ADJUST, adjust_input(customer.id), bearer=staff)
    await accrue(db, customer.id, 10)  # the balance moves on; the replay still shows v1
    retry = await gql(app_client, ADJUST, adjust_input(customer.id), bearer=staff)
    assert retry["data"]["balanceAdjust"]["replayed"] is True
    assert retry["data"]["balanceAdjust"]["entry"] == first["data"]["balanceAdjust"]["entry"]
    assert retry["data"]["balanceAdjust"]["wallet"]["version"] == 1
    conflict = await gql(app_client, ADJUST, adjust_input(customer.id, amount=300), bearer=staff)
    assert conflict["data"]["balanceAdjust"] == {
        "entry": None,
        "wallet": None,
        "replayed": False,
        "userErrors": [
            {
                "code": "IDEMPOTENCY_CONFLICT",
                "field": ["input", "idempotencyKey"],
                "message": "This idempotency key was already used for a different request.",
            }
        ],
    }
    assert await stored(db) == (2, [("POINTS", 260)])


async def test_expected_problems_are_user_errors_and_change_nothing(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 100)
    before = await stored(db)
    staff = token(settings, "olga", Role.SUPPORT)
    cases = [
        (adjust_input(customer.id, amount=-101), "INSUFFICIENT_FUNDS", ["input", "amount"]),
        (adjust_input(customer.id, amount=0), "ZERO_AMOUNT", ["input", "amount"]),
        (adjust_input(customer.id, reason="x"), "REASON_REQUIRED", ["input", "reason"]),
        (adjust_input(customer.id, currency="LEGACY"), "CURRENCY_DISABLED", ["input", "currency"]),
        (
            adjust_input(customer.id, idempotencyKey=""),
            "IDEMPOTENCY_KEY_INVALID",
            ["input", "idempotencyKey"],
        ),
        (adjust_input(999), "NOT_FOUND", ["input", "customerId"]),
        (adjust_input(customer.id, customerId="garbage"), "NOT_FOUND", ["input", "customerId"]),
        (
            adjust_input(customer.id, customerId=encode_id("LedgerEntry", 1)),
            "NOT_FOUND",
            ["input", "customerId"],
        ),
    ]
    for variables, code, field in cases:
        body = await gql(app_client, ADJUST, variables, bearer=staff)
        errors = body["data"]["balanceAdjust"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], variables
    assert await stored(db) == before


async def test_messages_follow_accept_language(app_client, settings, db):
    customer = await make_customer(db, "anna")
    staff = token(settings, "olga", Role.SUPPORT)
    body = await gql(
        app_client,
        ADJUST,
        adjust_input(customer.id, amount=-5),
        bearer=staff,
        headers={"accept-language": "ru, en;q=0.5"},
    )
    [error] = body["data"]["balanceAdjust"]["userErrors"]
    assert error["message"] == "Недостаточно средств (POINTS): доступно 0, нужно 5."


async def test_roles_are_checked_before_anything_happens(app_client, settings, db):
    customer = await make_customer(db, "anna")
    for bearer, code in (
        (None, "UNAUTHENTICATED"),
        ("garbage", "UNAUTHENTICATED"),
        (token(settings, "anna"), "FORBIDDEN"),
        (token(settings, "mia", Role.MARKETING), "FORBIDDEN"),
    ):
        response = await post(app_client, ADJUST, adjust_input(customer.id), bearer=bearer)
        assert response.status_code == (401 if bearer == "garbage" else 200)
        body = response.json()
        assert body["data"] is None
        assert error_codes(body) == [code]
    assert await stored(db) == (0, [])
    admin = await gql(
        app_client, ADJUST, adjust_input(customer.id), bearer=token(settings, "boss", Role.ADMIN)
    )
    assert admin["data"]["balanceAdjust"]["userErrors"] == []


async def test_wrong_variable_types_are_rejected_before_execution(app_client, settings, db):
    customer = await make_customer(db, "anna")
    staff = token(settings, "olga", Role.SUPPORT)
    for overrides in (
        {"amount": "ten"},
        {"amount": 2**40},
        {"currency": "RUBLES"},
        {"amount": None},
    ):
        body = await gql(app_client, ADJUST, adjust_input(customer.id, **overrides), bearer=staff)
        assert "data" not in body or body["data"] is None
        assert error_codes(body) == ["BAD_USER_INPUT"], overrides
    assert await stored(db) == (0, [])
