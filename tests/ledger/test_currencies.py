"""Two currencies at once: an admin runs the old one beside the new, then retires it."""

from __future__ import annotations

from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from bff.ledger.service import LedgerService, Source
from tests.fixtures.graphql import error_codes, gql, token
from tests.fixtures.marketplace import give_coins, make_category, make_product

UPDATE = """mutation C($input: CurrencyUpdateInput!) { currencyUpdate(input: $input) {
  currency { code enabled } userErrors { code } } }"""
WALLETS = "{ me { wallets { currency balance } } }"
REDEEM = """mutation R($input: MarketplaceRedeemInput!) { marketplaceRedeem(input: $input) {
  wallet { currency available } userErrors { code } } }"""


async def test_both_currencies_are_shown_and_spendable_where_allowed(app_client, db, settings):
    admin = token(settings, "boss", Role.ADMIN)
    customer_id = await give_coins(db, "anna", 50)
    anna = token(settings, "anna")
    before = await gql(app_client, WALLETS, bearer=anna)
    assert [w["currency"] for w in before["data"]["me"]["wallets"]] == ["COINS", "POINTS"]

    on = await gql(app_client, UPDATE, {"input": {"code": "LEGACY", "enabled": True}}, bearer=admin)
    assert on["data"]["currencyUpdate"] == {
        "currency": {"code": "LEGACY", "enabled": True},
        "userErrors": [],
    }
    async with db.unit_of_work() as session:
        await LedgerService(session).accrue(
            customer_id, "LEGACY", 70, reason="Old balance", source=Source("test", "1")
        )
    both = await gql(app_client, WALLETS, bearer=anna)
    assert both["data"]["me"]["wallets"] == [
        {"currency": "COINS", "balance": 50},
        {"currency": "LEGACY", "balance": 70},
        {"currency": "POINTS", "balance": 0},
    ]
    # A shelf priced in the old currency takes it; the coins stay where they are.
    old_shelf = await make_category(db, "Classics", currency="LEGACY", price=60)
    product = await make_product(db, old_shelf)
    values = {"productId": encode_id("MarketplaceProduct", product.id), "idempotencyKey": "r1"}
    paid = await gql(app_client, REDEEM, {"input": values}, bearer=anna)
    assert paid["data"]["marketplaceRedeem"] == {
        "wallet": {"currency": "LEGACY", "available": 10},
        "userErrors": [],
    }

    off = await gql(
        app_client, UPDATE, {"input": {"code": "LEGACY", "enabled": False}}, bearer=admin
    )
    assert off["data"]["currencyUpdate"]["currency"]["enabled"] is False
    after = await gql(app_client, WALLETS, bearer=anna)
    assert [w["currency"] for w in after["data"]["me"]["wallets"]] == ["COINS", "POINTS"]


async def test_only_admins_switch_currencies(app_client, settings, db):
    values = {"input": {"code": "LEGACY", "enabled": True}}
    for bearer in (token(settings, "anna"), token(settings, "mia", Role.MARKETING)):
        assert error_codes(await gql(app_client, UPDATE, values, bearer=bearer)) == ["FORBIDDEN"]
