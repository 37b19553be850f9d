"""The engine's settings for a real deployment."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from bff.app import create_app
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.embedded_db import EmbeddedServer
from bff.kernel.migrate import upgrade
from tests.conftest import serving
from tests.fixtures.database import FAST_AND_LOOSE
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


def server_processes(status) -> list[int]:
    children = Path(f"/proc/{status.pid}/task/{status.pid}/children").read_text().split()
    return [status.pid, *(int(pid) for pid in children)]


async def test_a_frozen_database_is_a_fast_typed_error_not_a_hang(tmp_path):
    server = EmbeddedServer(tmp_path / "postgres", settings=FAST_AND_LOOSE)
    query = "{ me { wallets { balance } } }"
    try:
        quick = Settings(
            data_dir=tmp_path,
            database_url=server.ensure_running("frozen"),
            dev_auth=True,
            db_connect_timeout_seconds=1,
            db_statement_timeout_seconds=1,
            db_pool_timeout_seconds=1,
        )
        db = Database(quick)
        await upgrade(db.engine)
        await db.dispose()
        async with serving(create_app(quick)) as client:
            bearer = token(quick, "anna")
            assert "errors" not in await gql(client, query, bearer=bearer)
            status = server.status()
            assert status is not None
            frozen = server_processes(status)
            for pid in frozen:
                os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                body = await asyncio.wait_for(gql(client, query, bearer=bearer), 15)
                waited = time.monotonic() - started
            finally:
                for pid in frozen:
                    os.kill(pid, signal.SIGCONT)
            assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
            assert waited < 10, waited
            for _ in range(3):  # its connection timed out: the next ones are fresh
                again = await gql(client, query, bearer=bearer)
                if "errors" not in again:
                    break
            assert "errors" not in again, again
    finally:
        server.stop()
