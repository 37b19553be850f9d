"""Spending rules: staff set them (recorded), and one rule says how many points may pay
an order, for the app's cart (`me.spendable`)."""

from __future__ import annotations

import pytest

from bff.kernel.auth import Role
from bff.spending.models import SpendingRule
from bff.spending.service import Limit, Spendable, spendable
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import error_codes, gql, token

SET = """mutation S($input: SpendingRuleSetInput!) { spendingRuleSet(input: $input) {
  rule { id currency brand pointValue { kopecks text } maxShareBasisPoints
         minMoney { kopecks }
         levelShares { level shareBasisPoints } active
         changes { actor before after } }
  userErrors { code field message } } }"""
SPENDABLE = """query($amount: Int!, $brand: String) { me {
  spendable(amount: $amount, brand: $brand) {
    points { amount } value { kopecks } reason } } }"""


def rule(**values) -> SpendingRule:
    defaults = {
        "kopecks_per_point": 100,
        "max_share_bp": 3_000,
        "min_money_kopecks": 0,
        "level_shares": {},
        "active": True,
    }
    return SpendingRule(**(defaults | values))


@pytest.mark.parametrize(
    ("found", "available", "amount", "level", "expected"),
    [
        # 30 % of 1,000 rubles is 300 rubles: 300 points of 1 ruble.
        (rule(), 1_000, 100_000, None, Spendable(300, 30_000, Limit.SHARE)),
        (rule(), 120, 100_000, None, Spendable(120, 12_000, Limit.BALANCE)),
        (rule(), 0, 100_000, None, Spendable(0, 0, Limit.BALANCE)),
        # Whole points only: 30 % of 10.99 rubles is 3.297 rubles.
        (rule(), 1_000, 1_099, None, Spendable(3, 300, Limit.SHARE)),
        # A level that may pay the whole order, but 50 rubles must be paid in money.
        (
            rule(level_shares={"PLATINUM": 10_000}, min_money_kopecks=5_000),
            10_000,
            100_000,
            "PLATINUM",
            Spendable(950, 95_000, Limit.MONEY_MINIMUM),
        ),
        (
            rule(level_shares={"PLATINUM": 10_000}),
            10_000,
            100_000,
            "PLATINUM",
            Spendable(1_000, 100_000, Limit.LEVEL_PERK),
        ),
        (
            rule(level_shares={"PLATINUM": 10_000}),
            10_000,
            100_000,
            "SILVER",
            Spendable(300, 30_000, Limit.SHARE),
        ),
        (
            rule(min_money_kopecks=200_000),
            1_000,
            100_000,
            None,
            Spendable(0, 0, Limit.MONEY_MINIMUM),
        ),
        (rule(active=False), 1_000, 100_000, None, Spendable(0, 0, Limit.NO_RULE)),
        (None, 1_000, 100_000, None, Spendable(0, 0, Limit.NO_RULE)),
    ],
)
def test_the_rule_of_what_may_pay(found, available, amount, level, expected):
    answer = spendable(found, available, amount, level)
    assert (answer.points, answer.value_kopecks, answer.limit) == (
        expected.points,
        expected.value_kopecks,
        expected.limit,
    )
    applies = found is not None and found.active
    assert answer.point_value == (found.kopecks_per_point if applies else 0)


async def test_admins_set_rules_and_every_change_is_recorded(app_client, settings, db):
    admin = token(settings, "olga", Role.ADMIN)
    values = {"currency": "POINTS", "kopecksPerPoint": 100, "maxShareBasisPoints": 3000}
    first = (await gql(app_client, SET, {"input": values}, bearer=admin))["data"]["spendingRuleSet"]
    assert first["userErrors"] == []
    assert first["rule"]["pointValue"] == {"kopecks": 100, "text": "₽1.00"}
    perk = {**values, "levelShares": [{"level": "PLATINUM", "shareBasisPoints": 10000}]}
    second = (await gql(app_client, SET, {"input": perk}, bearer=admin))["data"]["spendingRuleSet"]
    assert second["rule"]["id"] == first["rule"]["id"]  # one rule per currency and brand
    changes = second["rule"]["changes"]
    assert [(c["actor"], c["before"] is None) for c in changes] == [("olga", True), ("olga", False)]
    assert changes[1]["before"]["level_shares"] == {}
    assert changes[1]["after"]["level_shares"] == {"PLATINUM": 10000}

    bad = await gql(
        app_client, SET, {"input": {**values, "maxShareBasisPoints": 10001}}, bearer=admin
    )
    assert [(e["code"], e["field"]) for e in bad["data"]["spendingRuleSet"]["userErrors"]] == [
        ("INVALID_SHARE", ["input", "maxShareBasisPoints"])
    ]
    support = await gql(
        app_client, SET, {"input": values}, bearer=token(settings, "s", Role.SUPPORT)
    )
    assert error_codes(support) == ["FORBIDDEN"]


async def test_the_cart_shows_what_may_pay_by_brand(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 1_000)
    admin = token(settings, "olga", Role.ADMIN)
    every_brand = {"currency": "POINTS", "kopecksPerPoint": 100, "maxShareBasisPoints": 3000}
    pizza = {**every_brand, "brand": "pizza", "maxShareBasisPoints": 10000, "minMoneyKopecks": 100}
    for values in (every_brand, pizza):
        await gql(app_client, SET, {"input": values}, bearer=admin)
    anna = token(settings, "anna")

    async def spend(amount: int, brand: str | None = None) -> dict:
        body = await gql(app_client, SPENDABLE, {"amount": amount, "brand": brand}, bearer=anna)
        assert "errors" not in body, body
        found = body["data"]["me"]["spendable"]
        return {
            "points": found["points"]["amount"],
            "value": found["value"]["kopecks"],
            "reason": found["reason"],
        }

    assert await spend(100_000) == {"points": 300, "value": 30_000, "reason": "SHARE"}
    assert await spend(50_000, "pizza") == {
        "points": 499,
        "value": 49_900,
        "reason": "MONEY_MINIMUM",
    }
    assert await spend(500_000, "pizza") == {"points": 1000, "value": 100_000, "reason": "BALANCE"}
    refused = await gql(app_client, SPENDABLE, {"amount": 0}, bearer=anna)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
