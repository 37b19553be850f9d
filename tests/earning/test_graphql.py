"""Earning, levels and flags through GraphQL: the customer's view and staff edits."""

from __future__ import annotations

from bff.kernel.auth import Role
from tests.fixtures.earning import completed, make_rule, send
from tests.fixtures.graphql import error_codes, gql, token

ME = """{ me {
  wallets { currency balance pending }
  level { current { code name perks { code title } cashbackBonus } next { code threshold }
          progress { completedOrders toNext } decayAt canPostpone }
} }"""

RULE_FIELDS = (
    "rule { id code title percentBasisPoints active changes { actor action before after } }"
)
CREATE = f"""mutation C($input: AccrualRuleCreateInput!) {{
  accrualRuleCreate(input: $input) {{ {RULE_FIELDS} userErrors {{ code field message }} }} }}"""
UPDATE = f"""mutation U($input: AccrualRuleUpdateInput!) {{
  accrualRuleUpdate(input: $input) {{ {RULE_FIELDS} userErrors {{ code field message }} }} }}"""


def cashback(**overrides):
    return {
        "input": {
            "code": "cashback",
            "title": "Cashback 3 %",
            "currency": "POINTS",
            "kind": "PERCENT",
            "percentBasisPoints": 300,
            "levelBonus": True,
            "validFrom": "2020-01-01T00:00:00+00:00",
            **overrides,
        }
    }


async def test_me_shows_pending_points_and_the_level(app_client, db, settings):
    await make_rule(db)
    for number in range(5):
        await send(app_client, completed(f"e{number}", f"A-{number}", 40_000))
    body = await gql(app_client, ME, bearer=token(settings, "anna"))
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["wallets"] == [
        {"currency": "COINS", "balance": 0, "pending": 100},
        {"currency": "POINTS", "balance": 500, "pending": 0},  # the Silver reward
    ]
    level = me["level"]
    assert level["current"] == {
        "code": "SILVER",
        "name": "Silver",
        "perks": [{"code": "free_delivery_slot", "title": "Free choice of delivery slot"}],
        "cashbackBonus": 100,
    }
    assert level["next"] == {"code": "GOLD", "threshold": 15}
    assert level["progress"] == {"completedOrders": 5, "toNext": 10}
    assert level["decayAt"]
    assert level["canPostpone"] is True


async def test_level_names_follow_the_language(app_client, settings):
    body = await gql(app_client, "{ levels { code name } }", headers={"accept-language": "ru"})
    assert body["data"]["levels"][1] == {"code": "SILVER", "name": "Серебро"}


async def test_postpone_through_graphql(app_client, db, settings):
    for number in range(5):
        await send(app_client, completed(f"e{number}", f"A-{number}", 1_000))
    mutation = """mutation { levelDecayPostpone {
        level { canPostpone decayAt } userErrors { code message } } }"""
    bearer = token(settings, "anna")
    before = (await gql(app_client, ME, bearer=bearer))["data"]["me"]["level"]["decayAt"]
    first = (await gql(app_client, mutation, bearer=bearer))["data"]["levelDecayPostpone"]
    assert first["userErrors"] == []
    assert first["level"]["canPostpone"] is False
    assert first["level"]["decayAt"] > before
    second = (await gql(app_client, mutation, bearer=bearer))["data"]["levelDecayPostpone"]
    assert [e["code"] for e in second["userErrors"]] == ["ALREADY_POSTPONED"]
    newcomer = await gql(app_client, mutation, bearer=token(settings, "new"))
    assert [e["code"] for e in newcomer["data"]["levelDecayPostpone"]["userErrors"]] == [
        "NOTHING_TO_POSTPONE"
    ]
    assert error_codes(await gql(app_client, mutation)) == ["UNAUTHENTICATED"]


async def test_admin_creates_and_changes_rules_with_a_recorded_history(app_client, settings):
    admin = token(settings, "boss", Role.ADMIN)
    created = (await gql(app_client, CREATE, cashback(), bearer=admin))["data"]
    rule = created["accrualRuleCreate"]["rule"]
    assert rule["code"] == "cashback"
    assert rule["changes"][0]["action"] == "created"
    changed = await gql(
        app_client, UPDATE, {"input": {"id": rule["id"], "percentBasisPoints": 500}}, bearer=admin
    )
    rule = changed["data"]["accrualRuleUpdate"]["rule"]
    assert rule["percentBasisPoints"] == 500
    history = rule["changes"]
    assert [(c["actor"], c["action"]) for c in history] == [
        ("boss", "created"),
        ("boss", "updated"),
    ]
    assert (history[1]["before"]["percent_bp"], history[1]["after"]["percent_bp"]) == (300, 500)
    listed = await gql(app_client, "{ accrualRules { code } }", bearer=admin)
    assert listed["data"]["accrualRules"] == [{"code": "cashback"}]


async def test_rule_mistakes_are_user_errors(app_client, settings):
    admin = token(settings, "boss", Role.ADMIN)
    await gql(app_client, CREATE, cashback(), bearer=admin)
    cases = [
        (CREATE, cashback(), "CODE_TAKEN"),
        (CREATE, cashback(code="Bad Code"), "INVALID_CODE"),
        (CREATE, cashback(code="zero", percentBasisPoints=0), "INVALID_RATE"),
        (
            CREATE,
            cashback(code="steps", kind="PER_AMOUNT", percentBasisPoints=None),
            "INVALID_RATE",
        ),
        (CREATE, cashback(code="window", validTo="2019-01-01T00:00:00+00:00"), "INVALID_WINDOW"),
        (CREATE, cashback(code="days", expiryPolicy="DAYS"), "INVALID_EXPIRY"),
        (CREATE, cashback(code="legacy", currency="LEGACY"), "CURRENCY_DISABLED"),
        (UPDATE, {"input": {"id": "nope", "active": False}}, "NOT_FOUND"),
    ]
    for query, variables, code in cases:
        body = await gql(app_client, query, variables, bearer=admin)
        payload = next(iter(body["data"].values()))
        assert [e["code"] for e in payload["userErrors"]] == [code], variables


async def test_rules_and_flags_need_the_admin_role(app_client, settings):
    for bearer, code in (
        (None, "UNAUTHENTICATED"),
        (token(settings, "s", Role.SUPPORT), "FORBIDDEN"),
        (token(settings, "m", Role.MARKETING), "FORBIDDEN"),
    ):
        body = await gql(app_client, CREATE, cashback(), bearer=bearer)
        assert error_codes(body) == [code]
        flag = await gql(
            app_client,
            'mutation { featureFlagSet(input: {key: "x_y", enabled: true})'
            " { userErrors { code } } }",
            bearer=bearer,
        )
        assert error_codes(flag) == [code]


async def test_feature_flags_for_the_native_shell(app_client, db, settings):
    admin = token(settings, "boss", Role.ADMIN)
    set_flag = """mutation S($input: FeatureFlagSetInput!) { featureFlagSet(input: $input) {
        flag { key enabled rolloutPercent cities updatedBy } userErrors { code } } }"""
    await gql(
        app_client, set_flag, {"input": {"key": "marketplace", "enabled": True}}, bearer=admin
    )
    result = await gql(
        app_client,
        set_flag,
        {"input": {"key": "kazan_launch", "enabled": True, "cities": ["kazan"]}},
        bearer=admin,
    )
    assert result["data"]["featureFlagSet"]["flag"]["updatedBy"] == "boss"
    bad = await gql(
        app_client,
        set_flag,
        {"input": {"key": "x", "enabled": True, "rolloutPercent": 101}},
        bearer=admin,
    )
    assert [e["code"] for e in bad["data"]["featureFlagSet"]["userErrors"]] == ["INVALID_KEY"]
    await send(app_client, completed("e1", "A-1", 1_000, customer="kazan-anna", city="kazan"))
    query = "{ featureFlags { key enabled } }"
    kazan = await gql(app_client, query, bearer=token(settings, "kazan-anna"))
    assert kazan["data"]["featureFlags"] == [
        {"key": "kazan_launch", "enabled": True},
        {"key": "marketplace", "enabled": True},
    ]
    anonymous = await gql(app_client, query)
    assert anonymous["data"]["featureFlags"] == [
        {"key": "kazan_launch", "enabled": False},
        {"key": "marketplace", "enabled": True},
    ]
    settings_view = await gql(
        app_client,
        "{ featureFlagSettings { key cities } }",
        bearer=token(settings, "m", Role.MARKETING),
    )
    assert settings_view["data"]["featureFlagSettings"][0] == {
        "key": "kazan_launch",
        "cities": ["kazan"],
    }


async def test_the_ordering_system_reads_perks(app_client, db):
    import time

    from bff.kernel.signing import sign

    for number in range(5):
        await send(app_client, completed(f"e{number}", f"A-{number}", 1_000))
    stamp = int(time.time())
    headers = {"x-timestamp": str(stamp), "x-signature": sign("test-orders-secret", stamp, b"")}
    response = await app_client.get("/api/customers/anna/level", headers=headers)
    assert response.json() == {
        "customer_id": "anna",
        "level": "SILVER",
        "perks": ["free_delivery_slot"],
        "cashback_bonus_bp": 100,
        "completed_orders": 5,
    }
    assert (await app_client.get("/api/customers/anna/level")).status_code == 401
    missing = await app_client.get("/api/customers/nobody/level", headers=headers)
    assert missing.status_code == 404


async def test_explicit_null_only_clears_what_may_be_empty(app_client, settings):
    admin = token(settings, "boss", Role.ADMIN)
    created = await gql(
        app_client, CREATE, cashback(validTo="2099-01-01T00:00:00+00:00"), bearer=admin
    )
    rule_id = created["data"]["accrualRuleCreate"]["rule"]["id"]
    for field in ("title", "active", "validFrom", "levelBonus"):
        body = await gql(app_client, UPDATE, {"input": {"id": rule_id, field: None}}, bearer=admin)
        assert error_codes(body) == ["BAD_USER_INPUT"], (field, body)
        assert f"`{field}` cannot be null" in body["errors"][0]["message"]
    cleared = await gql(
        app_client, UPDATE, {"input": {"id": rule_id, "validTo": None}}, bearer=admin
    )
    assert cleared["data"]["accrualRuleUpdate"]["userErrors"] == []
    rules = await gql(app_client, "{ accrualRules { title validTo } }", bearer=admin)
    assert rules["data"]["accrualRules"] == [{"title": "Cashback 3 %", "validTo": None}]
