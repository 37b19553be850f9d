"""Feature flags: rollout stable per customer, cities, and gating an accrual rule."""

from __future__ import annotations

from bff.flags.models import FeatureFlag
from bff.flags.service import FlagService, bucket, is_on
from tests.fixtures.earning import completed, make_rule, send


def flag(**values) -> FeatureFlag:
    defaults = {"key": "new_cashback", "enabled": True, "rollout_percent": 100, "cities": None}
    return FeatureFlag(**{**defaults, **values})


def test_rollout_is_stable_per_customer_and_close_to_its_percentage():
    subjects = [f"customer-{n}" for n in range(4000)]
    first = [is_on(flag(rollout_percent=25), s, None) for s in subjects]
    assert first == [is_on(flag(rollout_percent=25), s, None) for s in subjects]
    assert 900 < sum(first) < 1100
    widened = [is_on(flag(rollout_percent=50), s, None) for s in subjects]
    assert all(w for f, w in zip(first, widened, strict=True) if f), "raising keeps everyone in"


def test_buckets_are_independent_across_flags():
    same = sum(bucket("a", f"c{n}") == bucket("b", f"c{n}") for n in range(2000))
    assert same < 60


def test_cities_off_switch_and_anonymous_visitors():
    assert is_on(flag(cities=["kazan"]), "c1", "kazan")
    assert not is_on(flag(cities=["kazan"]), "c1", "moscow")
    assert not is_on(flag(enabled=False), "c1", None)
    assert not is_on(None, "c1", None)
    assert is_on(flag(), None, None)
    assert not is_on(flag(rollout_percent=99), None, None)


async def test_a_rule_gated_by_a_flag_applies_only_where_the_flag_is_on(app_client, db):
    await make_rule(db, flag_key="kazan_launch")
    async with db.unit_of_work() as session:
        await FlagService(session).set(
            "kazan_launch",
            enabled=True,
            rollout_percent=100,
            cities=["kazan"],
            description="Coins launch in Kazan first",
            actor="admin-1",
        )
    moscow = await send(app_client, completed("e1", "A-1", 40_000, city="moscow"))
    kazan = await send(app_client, completed("e2", "A-2", 40_000, city="kazan"))
    assert moscow.json()["accruals"] == []
    assert [a["amount"] for a in kazan.json()["accruals"]] == [20]
