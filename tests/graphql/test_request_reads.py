"""A query's DataLoaders read through one session that still sees every commit; reads
after the operation ends use sessions of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bff.kernel.db import Database, RequestReads
from bff.ledger.repository import LedgerRepository
from tests.conftest import counting_statements
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, token

HOME = """{ home { wallets { currency balance pending expiringSoon { amount } }
  level { current { code } } featureFlags { key } } }"""


@contextmanager
def counting_checkouts(db: Database) -> Iterator[list[int]]:
    """How many times a connection is taken from the pool."""
    taken: list[int] = []

    def _taken(*_args: Any) -> None:
        taken.append(1)

    event.listen(db.engine.sync_engine, "checkout", _taken)
    try:
        yield taken
    finally:
        event.remove(db.engine.sync_engine, "checkout", _taken)


async def balance(reads: RequestReads, customer_id: int) -> int:
    async with reads.read() as session:
        [wallet] = await LedgerRepository(session).wallets_by_customer_ids([customer_id])
        return wallet.balance


async def test_a_query_takes_one_connection_for_all_its_loaders(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 50)
    bearer = token(settings, "anna")
    await gql(app_client, HOME, bearer=bearer)  # the directory learns anna's id
    with counting_checkouts(app_client.app.state.db) as taken:
        body = await gql(app_client, HOME, bearer=bearer)
    assert "errors" not in body, body
    assert [w["balance"] for w in body["data"]["home"]["wallets"]] == [0, 50]
    assert len(taken) == 1


async def test_a_customer_seen_first_is_read_once_on_the_same_connection(app_client, settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 50)
    with (
        counting_checkouts(app_client.app.state.db) as taken,
        counting_statements(app_client.app) as counter,
    ):
        body = await gql(app_client, HOME, bearer=token(settings, "anna"))
    assert "errors" not in body, body
    assert [w["balance"] for w in body["data"]["home"]["wallets"]] == [0, 50]
    assert len(taken) == 1  # the directory's lookup shares the query's session
    # ...and the row it read answers the loader that wants the customer (flags, city).
    assert len([s for s in counter.statements if "FROM customers" in s]) == 1


async def test_shared_reads_see_what_is_committed_meanwhile(db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 50)
    reads = RequestReads(db)
    reads.share()
    try:
        assert await balance(reads, customer.id) == 50
        await accrue(db, customer.id, 7)  # another connection commits during the request
        assert await balance(reads, customer.id) == 57
    finally:
        await reads.close()


async def test_a_read_waiting_when_the_operation_ends_gets_its_own_session(db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 50)
    reads = RequestReads(db)
    reads.share()
    async with reads.read():
        closing = asyncio.create_task(reads.close())
        late = asyncio.create_task(balance(reads, customer.id))
        await asyncio.sleep(0.05)
        assert not closing.done()  # the close waits for this turn, and the late read
        assert not late.done()  # for the close
    await closing
    assert await late == 50
    assert reads._session is None  # nothing left open
