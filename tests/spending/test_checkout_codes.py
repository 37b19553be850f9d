"""The till's checkout code: the app shows it, a till quotes and pays with it instead of a
customer id; forged, expired or used codes are refused and change nothing."""

from __future__ import annotations

import asyncio
import json
import time

from cryptography.fernet import Fernet

from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from tests.fixtures.earning import send
from tests.fixtures.graphql import error_codes, gql, token
from tests.spending.test_checkout import points_wallet, setup

CODE = "{ me { checkoutCode { code expiresAt } } }"


async def signed(client, path: str, payload: dict):
    return await send(client, payload, path=path)


def with_code(code: str, **extra) -> dict:
    return {
        "checkout_code": code,
        "brand": "grocery",
        "order": {"id": "A-1", "amount": 100_000},
    } | extra


async def test_a_till_quotes_and_pays_once_with_the_code_the_app_shows(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    shown = await gql(app_client, CODE, bearer=token(settings, "anna"))
    code = shown["data"]["me"]["checkoutCode"]["code"]

    quoted = await signed(app_client, "/api/checkout/quote", with_code(code))
    assert (quoted.status_code, quoted.json()["customer_id"]) == (200, "anna")
    paid = await signed(
        app_client, "/api/checkout/holds", with_code(code, points=100, idempotency_key="till-1")
    )
    assert paid.status_code == 201, paid.text
    again = await signed(
        app_client, "/api/checkout/holds", with_code(code, points=100, idempotency_key="till-2")
    )
    assert (again.status_code, again.json()["error"]["code"]) == (422, "CHECKOUT_CODE_REFUSED")
    assert "already used" in again.json()["error"]["message"]
    assert (await points_wallet(db, customer_id)).held == 100


async def test_forged_and_expired_codes_are_refused(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    key = (settings.data_dir / "secrets.key").read_bytes().strip()
    stale = Fernet(key).encrypt_at_time(
        json.dumps({"customer": customer_id, "nonce": "0" * 32}).encode(), int(time.time()) - 120
    )
    for code in ("forged", stale.decode(), "x" * 10_000):
        refused = await signed(
            app_client, "/api/checkout/holds", with_code(code, points=10, idempotency_key=code[:50])
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            422,
            "CHECKOUT_CODE_REFUSED",
        )
    malformed = await signed(app_client, "/api/checkout/quote", with_code(7))  # type: ignore[arg-type]
    assert (malformed.status_code, malformed.json()["error"]["field"]) == (400, "checkout_code")
    assert (await points_wallet(db, customer_id)).held == 0


async def test_a_code_pays_once_even_when_tills_race(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    code = (await gql(app_client, CODE, bearer=token(settings, "anna")))["data"]["me"]
    code = code["checkoutCode"]["code"]
    answers = await asyncio.gather(
        *(
            signed(
                app_client,
                "/api/checkout/holds",
                with_code(code, points=50, idempotency_key=f"till-{n}"),
            )
            for n in range(5)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [201, 422, 422, 422, 422]
    assert (await points_wallet(db, customer_id)).held == 50


async def test_only_the_customer_gets_a_code(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    query = """query($id: ID!) { node(id: $id) { ... on Customer { checkoutCode { code } } } }"""
    variables = {"id": encode_id("Customer", customer_id)}
    staff = await gql(app_client, query, variables, bearer=token(settings, "s", Role.SUPPORT))
    assert error_codes(staff) == ["UNAUTHENTICATED"]  # staff are not customers
    other = await gql(app_client, query, variables, bearer=token(settings, "boris"))
    assert (other["data"]["node"], error_codes(other)) == (None, [])  # not even visible
