"""The cost of a query (bff.graphql.cost): counted before it runs, refused over the budget,
reported on every answer."""

from __future__ import annotations

from dataclasses import replace

import pytest
from graphql import parse
from prometheus_client import REGISTRY

from bff.app import create_app
from bff.graphql.cost import query_cost
from bff.graphql.schema import build_schema
from bff.kernel.config import Settings
from tests.conftest import counting_statements, serving
from tests.fixtures.graphql import error_codes, gql, token
from tests.home.test_home import HOME as LARGE_HOME

NESTED = """
query Nested($n: Int) {
  offers(first: $n) { edges { node { partner {
    offers(first: $n) { edges { node { partner {
      offers(first: $n) { edges { node { id } } }
    } } } }
  } } } }
}
"""


def cost_of(query: str, variables: dict[str, object] | None = None) -> int:
    schema = build_schema()._schema
    return query_cost(schema, parse(query), None, variables)


def test_a_connection_multiplies_what_each_item_selects():
    # offers 1 + 10 * (edges 1 + node 1 + partner 1); scalars cost nothing.
    assert cost_of("{ offers(first: 10) { edges { node { id partner { name } } } } }") == 31
    # Without `first`, the default page.
    assert cost_of("{ offers { edges { node { id } } } }") == 1 + 20 * 2
    # pageInfo is selected once per page, yet counted with the items: a bound, not a bill.
    assert cost_of("{ offers(first: 0) { pageInfo { hasNextPage } } }") == 1


def test_nested_connections_multiply_and_variables_count():
    per_level = {n: cost_of(NESTED, {"n": n}) for n in (1, 2, 100)}
    assert per_level[1] == 1 + (3 + (1 + (3 + (1 + 2))))
    assert per_level[100] > 2_000_000  # the query that once ran for a minute
    assert cost_of(NESTED.replace("$n: Int", "$n: Int = 2")) == per_level[2]


def test_fragments_count_where_they_are_spread_and_are_walked_once():
    spread = """
    query { offers(first: 5) { edges { node { ...Card } } } }
    fragment Card on Offer { partner { ...Name } id }
    fragment Name on Partner { name }
    """
    assert cost_of(spread) == 1 + 5 * 3
    # A doubling chain of fragments 40 deep: counting must not walk it 2^40 times.
    chain = "\n".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    doubling = f"query {{ ...F0 }}\n{chain}\nfragment F40 on Query {{ levels {{ code }} }}"
    assert cost_of(doubling) == 2**40


NATIVE_HOME = """query Home { home {
  wallets { currency balance available pending expiringSoon { amount } }
  level { current { code name } next { code name } progress { completedOrders toNext } }
  offers(first: 10) { edges { node { id title partner { name } activation { active } } } }
  marketplace { city categories(first: 5) { edges { node { id title price { amount currency }
    products(first: 6) { edges { node { id title available unavailableReason } } } } } } }
  featureFlags { key enabled }
} }"""


def test_the_apps_own_queries_fit_comfortably():
    budget = Settings().max_query_cost
    assert cost_of(NATIVE_HOME) * 50 < budget
    # The largest query of the suite: fifty categories of fifty products.
    assert cost_of(LARGE_HOME) < budget


async def test_a_query_over_the_budget_is_refused_before_it_runs(settings, db):
    app = create_app(settings)
    async with serving(app) as client:
        with counting_statements(app) as statements:
            body = await gql(client, NESTED, {"n": 100})
        assert body["data"] is None
        assert error_codes(body) == ["QUERY_TOO_COSTLY"]
        error = body["errors"][0]
        assert error["extensions"]["limit"] == settings.max_query_cost
        assert error["extensions"]["cost"] == cost_of(NESTED, {"n": 100})
        assert str(error["extensions"]["cost"]) in error["message"]
        assert statements.count == 0


async def test_every_answer_reports_its_cost_and_the_metric_counts_it(settings, db):
    def observed() -> float:
        return REGISTRY.get_sample_value("bff_graphql_operation_cost_count") or 0.0

    before = observed()
    async with serving(create_app(settings)) as client:
        body = await gql(client, "{ offers(first: 3) { edges { node { id } } } }")
    assert body["extensions"]["cost"] == {"requested": 1 + 3 * 2, "limit": settings.max_query_cost}
    assert observed() == before + 1


@pytest.mark.parametrize("budget", [6, 7])
async def test_the_budget_is_a_setting(settings, db, budget):
    query = "{ offers(first: 3) { edges { node { id } } } }"  # costs 7
    async with serving(create_app(replace(settings, max_query_cost=budget))) as client:
        body = await gql(client, query)
    assert error_codes(body) == ([] if budget == 7 else ["QUERY_TOO_COSTLY"])


PAGES = """query Pages($n: Int) {
  me { displayName history(first: $n) { edges { node { id } } } }
  marketplace { categories(first: 2) { edges { node { products(first: 51) { edges {
    node { id } } } } } } }
}"""


async def test_a_page_size_out_of_range_is_refused_before_anything_runs(settings, db):
    anna = token(settings, "anna")
    app = create_app(settings)
    async with serving(app) as client:
        with counting_statements(app) as statements:
            body = await gql(client, PAGES, {"n": 1000}, bearer=anna)
            negative = await gql(client, PAGES, {"n": -1}, bearer=anna)
        assert statements.count == 0  # not even the customer is read
        within = await gql(client, PAGES.replace("51", "50"), {"n": 100}, bearer=anna)
    assert body["data"] is None  # not a `me: null` that looks like being signed out
    assert error_codes(body) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert [error["message"] for error in body["errors"]] == [
        "`first` of `history` must be between 0 and 100",
        "`first` of `products` must be between 0 and 50",  # a connection's own maximum
    ]
    assert error_codes(negative) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert "errors" not in within, within
    assert within["data"]["me"]["history"] == {"edges": []}
