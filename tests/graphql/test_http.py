"""The HTTP face: GraphQL over HTTP status codes, limits, masking, health, metrics."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from strawberry.extensions.validation_cache import _get_validate_cache

from bff.app import create_app
from bff.graphql.extensions import CACHE_SIZE, validation_rules
from bff.kernel.auth import Role
from bff.kernel.config import Settings
from tests.fixtures.graphql import error_codes, gql, post, token

GRAPHQL_RESPONSE = "application/graphql-response+json"
KEY = Fernet.generate_key().decode()


async def client_for(settings: Settings):
    app = create_app(settings)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_parse_error_keeps_200_for_application_json(app_client):
    response = await post(app_client, "{ me { ")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert error_codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ me { ", "GRAPHQL_PARSE_FAILED"),
        ("{ me { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query Q($n: Int!) { me { history(first: $n) { edges { cursor } } } }", "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_are_400_without_data_for_graphql_response(app_client, query, code):
    response = await post(
        app_client,
        query,
        {"n": "x"} if "$n" in query else None,
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == [code]


async def test_field_errors_keep_200_and_data_for_graphql_response(app_client):
    response = await post(
        app_client,
        '{ customerByExternalId(externalId: "x") { id } }',
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"customerByExternalId": None}
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_deep_queries_are_refused(app_client):
    deep = "{ __schema { types { " + "fields { type { " * 7 + "name" + " } }" * 7 + " } } }"
    body = await gql(app_client, deep)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "depth" in body["errors"][0]["message"].lower()


async def test_alias_floods_are_refused(app_client):
    query = "{ " + " ".join(f"a{n}: me {{ id }}" for n in range(31)) + " }"
    body = await gql(app_client, query)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in body["errors"][0]["message"]


async def test_huge_documents_are_refused_by_token_count(app_client):
    query = "{ " + " ".join("me { id }" for _ in range(800)) + " }"
    body = await gql(app_client, query)
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "tokens" in body["errors"][0]["message"]


async def test_limits_follow_settings(settings, db):
    app, client = await client_for(replace(settings, max_query_depth=3))
    async with app.router.lifespan_context(app), client:
        body = await gql(client, "{ me { history { edges { node { id } } } } }")
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "exceeds maximum operation depth of 3" in body["errors"][0]["message"]


async def test_validation_rules_are_built_once_so_the_cache_hits(app_client):
    assert validation_rules(12, 30, True) is validation_rules(12, 30, True)
    cache = _get_validate_cache(CACHE_SIZE)
    query = "query CacheProbe { currencies { code } }"
    await gql(app_client, query)
    hits = cache.cache_info().hits
    for _ in range(3):
        await gql(app_client, query)
    assert cache.cache_info().hits == hits + 3


async def test_unexpected_errors_are_masked(app_client, settings, db):
    async with db.unit_of_work() as session:
        await session.execute(text("ALTER TABLE ledger_entries RENAME TO entries_gone"))
    try:
        body = await gql(
            app_client, "{ me { history { edges { cursor } } } }", bearer=token(settings, "anna")
        )
    finally:
        async with db.unit_of_work() as session:
            await session.execute(text("ALTER TABLE entries_gone RENAME TO ledger_entries"))
    assert body["data"] == {"me": None}
    assert body["errors"][0]["message"] == "Unexpected error."
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "entries" not in str(body)


async def test_malformed_http_requests_get_400(app_client):
    bad_json = await app_client.post(
        "/graphql", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    no_query = await app_client.post("/graphql", json={"variables": {}})
    assert no_query.status_code == 400
    mutation_by_get = await app_client.get(
        "/graphql", params={"query": "mutation { balanceAdjust(input: {}) { replayed } }"}
    )
    assert mutation_by_get.status_code in (400, 405)


async def test_graphiql_and_introspection_in_development(app_client):
    page = await app_client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    body = await gql(app_client, "{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_production_hides_graphiql_and_introspection(settings, db):
    production = replace(
        settings, env="production", dev_auth=False, secrets_key=KEY, public_url="https://x.test"
    )
    app, client = await client_for(production)
    async with app.router.lifespan_context(app), client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        body = await gql(client, "{ __schema { queryType { name } } }")
        typename = await gql(client, "{ __typename }")
    assert page.status_code == 404
    assert body["data"] is None
    assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in body["errors"][0]["message"].lower()
    assert (typename["data"], "errors" in typename) == ({"__typename": "Query"}, False)


MISSPELT = [
    "{ partnrs { edges { cursor } } }",  # a field
    "{ partners(frist: 1) { edges { cursor } } }",  # an argument
    "query($f: OfferFiltr) { offers(filter: $f) { edges { node { id } } } }",  # a type
]


async def test_production_gives_no_field_suggestions(settings, db, app_client):
    development = [await gql(app_client, query) for query in MISSPELT]
    assert all("Did you mean" in body["errors"][0]["message"] for body in development)
    production = replace(
        settings, env="production", dev_auth=False, secrets_key=KEY, public_url="https://x.test"
    )
    app, client = await client_for(production)
    async with app.router.lifespan_context(app), client:
        answers = [await gql(client, query) for query in MISSPELT]
    for body in answers:
        assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}, body
        assert not any("Did you mean" in error["message"] for error in body["errors"]), body


async def test_production_can_opt_in_to_graphiql(settings, db):
    production = replace(
        settings,
        env="production",
        dev_auth=False,
        graphiql=True,
        introspection=True,
        secrets_key=KEY,
        public_url="https://x.test",
    )
    app, client = await client_for(production)
    async with app.router.lifespan_context(app), client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        body = await gql(client, "{ __schema { queryType { name } } }")
    assert page.status_code == 200
    assert "errors" not in body


async def test_health_readiness_and_metrics(app_client):
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    ready = await app_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "postgresql"}
    await gql(app_client, "query HomeProbe { currencies { code } }")
    metrics = (await app_client.get("/metrics")).text
    assert 'bff_graphql_operations_total{operation="HomeProbe",outcome="ok"}' in metrics
    assert 'bff_http_requests_total{route="/graphql",status="200"}' in metrics


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path):
    settings = Settings(
        database_url="postgresql+asyncpg://bff:bff@127.0.0.1:1/none", data_dir=tmp_path
    )
    app, client = await client_for(settings)
    async with app.router.lifespan_context(app), client:
        response = await client.get("/readyz")
        live = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert live.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"1",
        b'"x"',
        b"[]",
        b"{",
        b'{"query": 5}',
        b'{"query": "{ levels { code } }", "variables": 5}',
        b'{"query": "{ levels { code } }", "extensions": "x"}',
        b'{"query": "{ levels { code } }", "operationName": 5}',
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_a_400(app_client, body):
    response = await app_client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(("variables", "status"), [("5", 400), ('"x"', 400), ("null", 200)])
async def test_get_variables_must_be_an_object_or_null(app_client, variables, status):
    response = await app_client.get(
        "/graphql", params={"query": "{ levels { code } }", "variables": variables}
    )
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+03:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00-05:00"]
)
async def test_a_time_outside_what_the_database_holds_is_a_bad_input(app_client, settings, when):
    admin = token(settings, "boss", Role.ADMIN)
    create = (
        "mutation C($input: AccrualRuleCreateInput!) { accrualRuleCreate(input: $input) "
        "{ rule { code } userErrors { code } } }"
    )
    values = {
        "code": "old",
        "title": "Old",
        "currency": "POINTS",
        "kind": "PERCENT",
        "percentBasisPoints": 100,
        "levelBonus": False,
        "validFrom": when,
    }
    response = await post(app_client, create, {"input": values}, bearer=admin)
    assert response.status_code == 200, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in response.json() or response.json()["data"] is None
