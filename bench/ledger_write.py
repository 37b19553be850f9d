"""Ledger write throughput on PostgreSQL, with every invariant checked afterwards.

Scenarios (16 concurrent writers, one accrual = one transaction with an idempotency key):
  hot      every writer posts to the same wallet (one locked row)
  spread   writers post to random wallets among 10,000
and, in the same run, a baseline: the same writes as hand-written SQL on raw asyncpg
(lock, update wallet, insert entry, lot and idempotency record), so the ratio tells
what the service layer costs on this machine today.

    BFF_BENCH_POSTGRES_URL=postgresql+asyncpg://bff:bff@127.0.0.1/bff_bench make bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.config import Settings
from bff.db import Database
from bff.ledger.service import IdempotencyKey, LedgerService, Source
from bff.migrate import upgrade

DEFAULT_URL = "postgresql+asyncpg://bff:bff@127.0.0.1/bff_bench"
RESULTS = Path(__file__).parent / "results"


@dataclass
class Result:
    scenario: str
    writer: str
    wallets: int
    entries: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.entries / self.seconds


async def prepare(url: str, customers: int) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO customers (external_id, created_at) "
                "SELECT 'bench-' || n, now() FROM generate_series(1, :n) AS n"
            ),
            {"n": customers},
        )
        # Every customer already has both wallets: the steady state of a live program.
        await connection.execute(
            text(
                "INSERT INTO wallets (customer_id, currency, balance, held, version, "
                "created_at, updated_at) SELECT c.id, cur.code, 0, 0, 0, now(), now() "
                "FROM customers c CROSS JOIN (VALUES ('POINTS'), ('COINS')) AS cur(code)"
            )
        )
    await engine.dispose()


async def run_service(db: Database, name: str, targets: list[int], writers: int) -> Result:
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for number, customer_id in enumerate(targets):
        queue.put_nowait((number, customer_id))

    async def writer() -> None:
        while not queue.empty():
            number, customer_id = queue.get_nowait()
            async with db.unit_of_work() as session:
                await LedgerService(session).accrue(
                    customer_id,
                    "POINTS",
                    1 + number % 50,
                    reason="Bench order",
                    source=Source("order", f"{name}-{number}"),
                    idempotency=IdempotencyKey(f"customer:{customer_id}", f"{name}-{number}"),
                )

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return Result(name, "service", len(set(targets)), len(targets), time.perf_counter() - started)


BASELINE_STEPS = """
INSERT INTO wallets (customer_id, currency, balance, held, version, created_at, updated_at)
VALUES ($1, 'COINS', 0, 0, 0, now(), now()) ON CONFLICT (customer_id, currency) DO NOTHING
"""


async def run_baseline(url: str, name: str, targets: list[int], writers: int) -> Result:
    """The same postings written by hand on raw asyncpg: the floor for the service."""
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    pool = await asyncpg.create_pool(dsn, min_size=writers, max_size=writers)
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for number, customer_id in enumerate(targets):
        queue.put_nowait((number, customer_id))

    async def post(connection: asyncpg.Connection, number: int, customer_id: int) -> None:
        amount, key = 1 + number % 50, f"{name}-{number}"
        async with connection.transaction():
            record_id = await connection.fetchval(
                "INSERT INTO idempotency_records (scope, key, request_hash, created_at) "
                "VALUES ($1, $2, 'h', now()) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
                f"customer:{customer_id}",
                key,
            )
            if record_id is None:
                return
            wallet = await connection.fetchrow(
                "SELECT id, balance, version FROM wallets WHERE customer_id = $1 "
                "AND currency = 'COINS' FOR UPDATE",
                customer_id,
            )
            if wallet is None:
                await connection.execute(BASELINE_STEPS, customer_id)
                wallet = await connection.fetchrow(
                    "SELECT id, balance, version FROM wallets WHERE customer_id = $1 "
                    "AND currency = 'COINS' FOR UPDATE",
                    customer_id,
                )
            balance, version = wallet["balance"] + amount, wallet["version"] + 1
            await connection.execute(
                "UPDATE wallets SET balance = $1, version = $2, updated_at = now() "
                "WHERE id = $3 AND version = $4",
                balance,
                version,
                wallet["id"],
                version - 1,
            )
            entry_id = await connection.fetchval(
                "INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, "
                "delta, held_delta, balance_after, held_after, reason, source_type, source_id, "
                "idempotency_record_id, created_at) VALUES ($1, $2, 'COINS', $3, 'accrual', $4, "
                "0, $5, 0, 'Bench order', 'order', $6, $7, now()) RETURNING id",
                wallet["id"],
                customer_id,
                version,
                amount,
                balance,
                key,
                record_id,
            )
            await connection.execute(
                "INSERT INTO lots (wallet_id, entry_id, amount, remaining, created_at) "
                "VALUES ($1, $2, $3, $3, now())",
                wallet["id"],
                entry_id,
                amount,
            )

    async def writer() -> None:
        async with pool.acquire() as connection:
            while not queue.empty():
                number, customer_id = queue.get_nowait()
                await post(connection, number, customer_id)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return Result(name, "baseline", len(set(targets)), len(targets), elapsed)


INVARIANTS = {
    "balance != sum of entries": """
        SELECT count(*) FROM wallets w WHERE w.balance <> (
            SELECT coalesce(sum(delta), 0) FROM ledger_entries e WHERE e.wallet_id = w.id)""",
    "versions not 1..N": """
        SELECT count(*) FROM wallets w WHERE w.version <> (
            SELECT count(*) FROM ledger_entries e WHERE e.wallet_id = w.id)
          OR w.version <> (
            SELECT coalesce(max(version), 0) FROM ledger_entries e WHERE e.wallet_id = w.id)""",
    "negative balance_after": "SELECT count(*) FROM ledger_entries WHERE balance_after < 0",
    "lots != balance": """
        SELECT count(*) FROM wallets w WHERE w.balance <> (
            SELECT coalesce(sum(remaining), 0) FROM lots l WHERE l.wallet_id = w.id)""",
    "idempotency key without exactly one entry": """
        SELECT count(*) FROM idempotency_records r WHERE 1 <> (
            SELECT count(*) FROM ledger_entries e WHERE e.idempotency_record_id = r.id)""",
}


async def violations(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    found = {}
    async with engine.connect() as connection:
        for name, sql in INVARIANTS.items():
            found[name] = int((await connection.execute(text(sql))).scalar_one())
    await engine.dispose()
    return found


async def main(arguments: argparse.Namespace) -> int:
    url = arguments.url
    await prepare(url, arguments.wallets)
    db = Database(Settings(database_url=url, db_pool_size=arguments.writers))
    rng = random.Random(7)
    hot = [1] * arguments.hot_entries
    spread = [rng.randint(1, arguments.wallets) for _ in range(arguments.spread_entries)]
    results = []
    for name, targets in (("hot", hot), ("spread", spread)):
        # Alternate baseline and service so machine noise hits both alike.
        results.append(await run_baseline(url, f"{name}-base", targets, arguments.writers))
        results.append(await run_service(db, name, targets, arguments.writers))
    await db.dispose()
    broken = await violations(url)

    print(
        f"\nledger write benchmark: {platform.node()}, {os.cpu_count()} cores, "
        f"{arguments.writers} writers, PostgreSQL"
    )
    print(f"{'scenario':8} {'writer':9} {'wallets':>8} {'entries':>8} {'entries/s':>10}")
    for result in results:
        print(
            f"{result.scenario.split('-')[0]:8} {result.writer:9} {result.wallets:8d} "
            f"{result.entries:8d} {result.per_second:10.0f}"
        )
    by_key = {(r.scenario.split("-")[0], r.writer): r.per_second for r in results}
    for scenario in ("hot", "spread"):
        ratio = by_key[(scenario, "service")] / by_key[(scenario, "baseline")]
        print(f"{scenario}: service / hand-written baseline = {ratio:.2f}")
    print("invariant violations:", broken)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ledger_write.json").write_text(
        json.dumps(
            {
                "results": [{**asdict(r), "per_second": r.per_second} for r in results],
                "violations": broken,
            },
            indent=2,
        )
    )
    spread_rate = by_key[("spread", "service")]
    ok = not any(broken.values()) and spread_rate >= arguments.target
    print(
        f"target {arguments.target:.0f} entries/s on distinct wallets: "
        f"{'met' if spread_rate >= arguments.target else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BFF_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--hot-entries", type=int, default=3_000)
    parser.add_argument("--spread-entries", type=int, default=10_000)
    parser.add_argument("--target", type=float, default=1_000)
    import uvloop  # what uvicorn runs the service on

    raise SystemExit(uvloop.run(main(parser.parse_args())))
