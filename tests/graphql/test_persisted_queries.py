"""Automatic persisted queries over GET and POST, the allow-list, and ETag/304."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

from bff.app import create_app
from bff.kernel.config import ConfigError, Settings
from bff.kernel.types import utcnow
from bff.persisted.models import PersistedQuery
from bff.persisted.service import Limits, Mode, Operation, PersistedQueries, allow_operations
from tests.conftest import serving
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import token

BALANCE = "query Balance { me { wallets { currency balance } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(document)}}


async def send(
    client: httpx.AsyncClient,
    method: str,
    *,
    query: str | None = None,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if method == "GET":
        params = {}
        if query is not None:
            params["query"] = query
        if extensions is not None:
            params["extensions"] = json.dumps(extensions)
        return await client.get("/graphql", params=params, headers=headers)
    payload: dict[str, Any] = {"extensions": extensions}
    if query is not None:
        payload["query"] = query
    return await client.post("/graphql", json=payload, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


async def stored(db) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(PersistedQuery)) or 0)


@pytest.fixture
async def anna(settings, db) -> dict[str, str]:
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 70)
    return {"authorization": f"Bearer {token(settings, 'anna')}"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_miss_then_register_then_hit(app_client, db, anna, method):
    miss = await send(app_client, method, extensions=persisted(BALANCE), headers=anna)
    assert miss.status_code == 200
    assert codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"  # what Apollo reads

    register = await send(
        app_client, method, query=BALANCE, extensions=persisted(BALANCE), headers=anna
    )
    assert register.json()["data"]["me"]["wallets"][-1] == {"currency": "POINTS", "balance": 70}
    assert await stored(db) == 1

    hit = await send(app_client, method, extensions=persisted(BALANCE), headers=anna)
    assert hit.json() == register.json()
    assert await stored(db) == 1


async def test_a_document_registered_in_one_process_is_found_by_another(settings, db, anna):
    async with serving(create_app(settings)) as first, serving(create_app(settings)) as second:
        await send(first, "POST", query=BALANCE, extensions=persisted(BALANCE), headers=anna)
        hit = await send(second, "GET", extensions=persisted(BALANCE), headers=anna)
    assert hit.json()["data"]["me"]["wallets"]


async def test_a_wrong_hash_is_rejected_and_nothing_is_stored(app_client, db, anna):
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256("{ __typename }")}}
    response = await send(app_client, "POST", query=BALANCE, extensions=wrong, headers=anna)
    assert codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "data" not in response.json() or response.json()["data"] is None
    assert await stored(db) == 0


@pytest.mark.parametrize(
    ("extensions", "reason"),
    [
        ({"persistedQuery": "abc"}, "expected an object"),
        ({"persistedQuery": {"version": 2, "sha256Hash": "a" * 64}}, "version 1"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}, "64 hexadecimal"),
        ({"persistedQuery": {"version": 1}}, "64 hexadecimal"),
    ],
)
async def test_malformed_persisted_query_extensions(app_client, extensions, reason):
    response = await send(app_client, "POST", extensions=extensions)
    assert codes(response) == ["PERSISTED_QUERY_INVALID"]
    assert reason in response.json()["errors"][0]["message"]


async def test_a_document_that_does_not_validate_is_not_kept(app_client, db):
    for broken in ("{ me { nope } }", "{ me { "):
        response = await send(app_client, "POST", query=broken, extensions=persisted(broken))
        assert codes(response) in (["GRAPHQL_VALIDATION_FAILED"], ["GRAPHQL_PARSE_FAILED"])
    assert await stored(db) == 0


async def test_graphql_response_media_type_gets_400_without_data(app_client):
    response = await send(
        app_client, "POST", extensions=persisted(BALANCE), headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_mutation_cannot_run_over_get_even_by_hash(app_client, db, settings):
    mutation = (
        'mutation { customerProfileUpdate(input: {displayName: "A"}) { customer { displayName } } }'
    )
    bearer = {"authorization": f"Bearer {token(settings, 'anna')}"}
    registered = await send(
        app_client, "POST", query=mutation, extensions=persisted(mutation), headers=bearer
    )
    assert registered.json()["data"]["customerProfileUpdate"]["customer"]["displayName"] == "A"
    response = await send(app_client, "GET", extensions=persisted(mutation), headers=bearer)
    assert response.status_code in (400, 405)


# --- allow-list mode ---------------------------------------------------------------


async def test_allow_list_runs_only_registered_operations(settings, db, anna):
    await allow_operations(db, [Operation(BALANCE, "Balance")])
    other = "{ me { id } }"
    async with serving(create_app(replace(settings, persisted_queries="allowlist"))) as client:
        by_hash = await send(client, "GET", extensions=persisted(BALANCE), headers=anna)
        assert by_hash.json()["data"]["me"]["wallets"]
        as_text = await send(client, "POST", query=BALANCE, headers=anna)
        assert as_text.json()["data"]["me"]["wallets"]

        unknown_text = await send(client, "POST", query=other, headers=anna)
        assert codes(unknown_text) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        unknown_hash = await send(client, "GET", extensions=persisted(other), headers=anna)
        assert codes(unknown_hash) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        # apps cannot add to the list by registering
        register = await send(
            client, "POST", query=other, extensions=persisted(other), headers=anna
        )
        assert codes(register) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert await stored(db) == 1


async def test_codegen_clients_ask_by_document_id(settings, db, anna):
    await allow_operations(db, [Operation(BALANCE, "Balance")])
    async with serving(create_app(replace(settings, persisted_queries="allowlist"))) as client:
        for document_id in (f"sha256:{sha256(BALANCE)}", sha256(BALANCE)):
            answer = await client.post("/graphql", json={"documentId": document_id}, headers=anna)
            assert answer.json()["data"]["me"]["wallets"], answer.text
        unknown = await client.post(
            "/graphql", json={"documentId": f"sha256:{sha256('{ me { id } }')}"}, headers=anna
        )
        assert codes(unknown) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        for bad in (
            {"documentId": 7},
            {"documentId": sha256(BALANCE), "query": BALANCE},
            {"documentId": sha256(BALANCE), "extensions": []},
        ):
            refused = await client.post("/graphql", json=bad, headers=anna)
            assert refused.status_code == 400, (bad, refused.text)
        garbled = await client.post("/graphql", json={"documentId": "sha256:nope"}, headers=anna)
        assert garbled.json()["data"] is None
        assert codes(garbled) == ["PERSISTED_QUERY_INVALID"], garbled.text


async def test_allow_list_ignores_documents_apps_registered_themselves(settings, db, anna):
    other = "{ me { id } }"
    async with serving(create_app(settings)) as automatic:
        await send(automatic, "POST", query=other, extensions=persisted(other), headers=anna)
    assert await stored(db) == 1
    async with serving(create_app(replace(settings, persisted_queries="allowlist"))) as client:
        response = await send(client, "GET", extensions=persisted(other), headers=anna)
    assert codes(response) == ["PERSISTED_QUERY_NOT_IN_LIST"]


async def test_allowing_twice_counts_new_operations_once(db):
    assert await allow_operations(db, [Operation(BALANCE, "Balance")]) == 1
    assert await allow_operations(db, [Operation(BALANCE, "Balance")]) == 0
    assert await stored(db) == 1


async def test_persisted_queries_can_be_turned_off(settings, db, anna):
    async with serving(create_app(replace(settings, persisted_queries="off"))) as client:
        response = await send(client, "GET", extensions=persisted(BALANCE), headers=anna)
        assert codes(response) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        plain = await send(client, "POST", query=BALANCE, headers=anna)
        assert plain.json()["data"]["me"]["wallets"]


def test_an_unknown_mode_is_a_configuration_error():
    with pytest.raises(ConfigError, match="BFF_PERSISTED_QUERIES"):
        Settings(persisted_queries="sometimes")


# --- ETag / 304 ----------------------------------------------------------------------


async def test_persisted_get_answers_304_while_nothing_changed(app_client, db, anna):
    await send(app_client, "POST", query=BALANCE, extensions=persisted(BALANCE), headers=anna)
    first = await send(app_client, "GET", extensions=persisted(BALANCE), headers=anna)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in first.headers["vary"]

    again = await send(
        app_client,
        "GET",
        extensions=persisted(BALANCE),
        headers={**anna, "if-none-match": etag},
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    customer_id = await customer_pk(db, "anna")
    await accrue(db, customer_id, 5)
    changed = await send(
        app_client,
        "GET",
        extensions=persisted(BALANCE),
        headers={**anna, "if-none-match": etag},
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["data"]["me"]["wallets"][-1]["balance"] == 75


async def test_weak_and_listed_validators_match(app_client, anna):
    await send(app_client, "POST", query=BALANCE, extensions=persisted(BALANCE), headers=anna)
    etag = (await send(app_client, "GET", extensions=persisted(BALANCE), headers=anna)).headers[
        "etag"
    ]
    for header in (f'"nope", W/{etag}', "*"):
        response = await send(
            app_client,
            "GET",
            extensions=persisted(BALANCE),
            headers={**anna, "if-none-match": header},
        )
        assert response.status_code == 304, header


async def test_no_etag_on_post_on_plain_get_or_on_errors(app_client, anna):
    post = await send(
        app_client, "POST", query=BALANCE, extensions=persisted(BALANCE), headers=anna
    )
    assert "etag" not in post.headers
    plain_get = await send(app_client, "GET", query=BALANCE, headers=anna)
    assert plain_get.status_code == 200
    assert "etag" not in plain_get.headers
    missing = await send(app_client, "GET", extensions=persisted("{ me { id } }"), headers=anna)
    assert "etag" not in missing.headers


async def test_anonymous_answers_are_not_marked_private(app_client):
    levels = "{ levels { code } }"
    await send(app_client, "POST", query=levels, extensions=persisted(levels))
    response = await send(app_client, "GET", extensions=persisted(levels))
    assert response.headers["cache-control"] == "no-cache"


async def customer_pk(db, external_id: str) -> int:
    from bff.customers.models import Customer

    async with db.read() as session:
        return int(
            await session.scalar(select(Customer.id).where(Customer.external_id == external_id))
        )


def variant(n: int) -> str:
    """Distinct documents that all run the same query."""
    return f"query Balance{n} {{ me {{ wallets {{ currency balance }} }} }}"


async def register(client: httpx.AsyncClient, document: str) -> Any:
    response = await send(client, "POST", query=document, extensions=persisted(document))
    assert response.status_code == 200, response.text
    return response.json()


def not_kept(budget: str) -> float:
    sample = REGISTRY.get_sample_value("bff_persisted_queries_not_kept_total", {"budget": budget})
    return sample or 0.0


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_document_over_the_byte_limit_is_refused_before_it_is_parsed(
    app_client, db, settings, method
):
    # A comment costs the tokenizer nothing: only its bytes can bound it.
    padded = BALANCE + "#" + "x" * settings.max_document_bytes
    response = await send(app_client, method, query=padded, extensions=persisted(padded))
    assert codes(response) == ["QUERY_TOO_LARGE"]
    assert str(settings.max_document_bytes) in response.json()["errors"][0]["message"]
    just_fits = BALANCE + "#" + "x" * (settings.max_document_bytes - len(BALANCE) - 1)
    assert "errors" not in (await send(app_client, method, query=just_fits)).json()
    assert await stored(db) == 0


async def test_registrations_per_hour_are_bounded_and_the_query_still_runs(settings, db):
    limited = replace(settings, persisted_queries_max_registered_per_hour=2)
    before = not_kept("period")
    async with serving(create_app(limited)) as client:
        for n in range(3):
            body = await register(client, variant(n))
            assert body["data"] == {"me": None}  # answered, kept or not
        assert await stored(db) == 2
        assert not_kept("period") == before + 1
        # The one not kept is simply unknown by hash: the app sends its text again.
        response = await send(client, "GET", extensions=persisted(variant(2)))
        assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_at_the_total_the_oldest_registrations_make_room(settings, db):
    limited = replace(settings, persisted_queries_max_registered=2)
    async with serving(create_app(limited)) as client:
        for n in range(2):
            await register(client, variant(n))
        before = not_kept("total")
        await register(client, variant(2))  # both others are of this hour
        assert (await stored(db), not_kept("total")) == (2, before + 1)

        async with db.unit_of_work() as session:  # variant 0 was registered yesterday
            await session.execute(
                update(PersistedQuery)
                .where(PersistedQuery.sha256 == sha256(variant(0)))
                .values(created_at=utcnow() - timedelta(days=1))
            )
        await register(client, variant(2))
    async with db.read() as session:
        kept = set(await session.scalars(select(PersistedQuery.sha256)))
    assert kept == {sha256(variant(1)), sha256(variant(2))}


async def test_concurrent_registrations_never_pass_the_budget(settings, db):
    limited = replace(settings, persisted_queries_max_registered_per_hour=5)
    async with serving(create_app(limited)) as client:
        await asyncio.gather(*(register(client, variant(n)) for n in range(20)))
    assert await stored(db) == 5


def test_each_process_keeps_documents_within_a_byte_budget():
    documents = PersistedQueries(None, Mode.AUTOMATIC, Limits(process_cache_bytes=1000))  # type: ignore[arg-type]
    for n in range(50):
        documents._keep(f"{n:064x}", "x" * 100, allowed=False)
    assert documents.cached_bytes <= 1000
    assert list(documents._documents) == [f"{n:064x}" for n in range(40, 50)]  # the newest


def test_production_runs_only_the_allow_list_unless_told_otherwise():
    production = {
        "env": "production",
        "database_url": "postgresql://db.internal/bff",
        "public_url": "https://loyalty.example",
    }
    assert Settings(**production).persisted_queries == "allowlist"
    assert Settings(**production, persisted_queries="automatic").persisted_queries == "automatic"
    assert Settings().persisted_queries == "automatic"
