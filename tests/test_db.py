"""The engine's settings for a real deployment."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text

from bff.app import create_app
from bff.kernel.db import Database
from tests.conftest import serving
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, token

HOME = (
    "{ home { wallets { currency balance expiringSoon { amount } } level { current { code } } } }"
)


async def prepared_statements(db: Database) -> int:
    async with db.read() as session:
        # Without a cache this statement is prepared too, while it runs.
        statement = (
            "SELECT count(*) FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prep%'"
        )
        return int(await session.scalar(text(statement)))


async def test_without_a_statement_cache_every_read_and_posting_still_works(settings, db):
    """As behind PgBouncer in transaction mode: nothing is kept prepared on a connection."""
    pooled = replace(settings, db_statement_cache_size=0)
    uncached = Database(pooled)
    try:
        customer = await make_customer(uncached, "anna")
        for amount in (10, 20):  # the same statements twice: nothing reused
            await accrue(uncached, customer.id, amount, expires_in=timedelta(days=3))
        assert await prepared_statements(uncached) == 0
    finally:
        await uncached.dispose()
    async with serving(create_app(pooled)) as client:
        for _ in range(2):
            body = await gql(client, HOME, bearer=token(settings, "anna"))
            assert body["data"]["home"]["wallets"] == [
                {"currency": "COINS", "balance": 0, "expiringSoon": None},
                {"currency": "POINTS", "balance": 30, "expiringSoon": {"amount": 30}},
            ], body
        assert await prepared_statements(client.app.state.db) == 0  # type: ignore[attr-defined]


async def test_the_default_keeps_statements_prepared(settings, db):
    customer = await make_customer(db, "anna")
    for amount in (10, 20):
        await accrue(db, customer.id, amount)
    assert await prepared_statements(db) > 0
