"""Ledger write throughput on PostgreSQL, with every invariant checked afterwards.

Scenarios (16 concurrent writers in 2 processes, as `serve --workers 2` runs; one accrual =
one transaction with an idempotency key):
  hot      every writer posts to the same wallet (one locked row)
  spread   writers post to random wallets among 10,000
and, in the same run, a baseline: the same writes as hand-written SQL on raw asyncpg
(lock, update wallet, insert entry, lot and idempotency record), so the ratio tells
what the service layer costs on this machine today.

    make bench    (database: bench/database.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg
from database import bench_url, exit_status, shrink, smoke_option
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.migrate import upgrade
from bff.ledger.service import IdempotencyKey, LedgerService, Source

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


def _queue(targets: list[tuple[int, int]]) -> asyncio.Queue[tuple[int, int]]:
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for item in targets:
        queue.put_nowait(item)
    return queue


async def run_service(url: str, name: str, targets: list[tuple[int, int]], writers: int) -> None:
    db = Database(Settings(database_url=url, db_pool_size=writers))
    queue = _queue(targets)

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

    await asyncio.gather(*(writer() for _ in range(writers)))
    await db.dispose()


BASELINE_WALLET = (
    "SELECT id, balance, version FROM wallets WHERE customer_id = $1 "
    "AND currency = 'COINS' FOR UPDATE"
)


async def _baseline_post(connection: asyncpg.Connection, name: str, number: int, customer: int):
    amount, key = 1 + number % 50, f"{name}-{number}"
    async with connection.transaction():
        record_id = await connection.fetchval(
            "INSERT INTO idempotency_records (scope, key, request_hash, created_at) "
            "VALUES ($1, $2, 'h', now()) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
            f"customer:{customer}",
            key,
        )
        if record_id is None:
            return
        wallet = await connection.fetchrow(BASELINE_WALLET, customer)
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
            customer,
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


async def run_baseline(url: str, name: str, targets: list[tuple[int, int]], writers: int) -> None:
    """The same postings written by hand on raw asyncpg: the floor for the service."""
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    pool = await asyncpg.create_pool(dsn, min_size=writers, max_size=writers)
    queue = _queue(targets)

    async def writer() -> None:
        async with pool.acquire() as connection:
            while not queue.empty():
                number, customer = queue.get_nowait()
                await _baseline_post(connection, name, number, customer)

    await asyncio.gather(*(writer() for _ in range(writers)))
    await pool.close()


def _process(job: tuple[str, str, str, list[tuple[int, int]], int, float]) -> float:
    """One writer process: waits for the common start, runs its share, returns its end."""
    import uvloop  # what uvicorn runs the service on

    writer, url, name, targets, writers, start_at = job
    run = run_service if writer == "service" else run_baseline
    time.sleep(max(0.0, start_at - time.time()))
    uvloop.run(run(url, name, targets, writers))
    return time.time()


def measure(
    writer: str, url: str, name: str, targets: list[int], writers: int, processes: int
) -> Result:
    """Split the writers over ``processes`` processes, as ``serve --workers`` does."""
    numbered = list(enumerate(targets))
    shares = [numbered[index::processes] for index in range(processes)]
    start_at = time.time() + 3.0  # every process is up before the clock starts
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        ends = pool.map(
            _process,
            [(writer, url, name, share, writers // processes, start_at) for share in shares],
        )
    return Result(name, writer, len(set(targets)), len(targets), max(ends) - start_at)


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
    rng = random.Random(7)
    hot = [1] * arguments.hot_entries
    spread = [rng.randint(1, arguments.wallets) for _ in range(arguments.spread_entries)]
    results = []
    for name, targets in (("hot", hot), ("spread", spread)):
        # Baseline right before the service, so machine noise hits both alike.
        for writer, tag in (("baseline", f"{name}-base"), ("service", name)):
            results.append(
                measure(writer, url, tag, targets, arguments.writers, arguments.processes)
            )
    broken = await violations(url)

    print(
        f"\nledger write benchmark: {platform.node()}, {os.cpu_count()} cores, "
        f"{arguments.writers} writers in {arguments.processes} processes, PostgreSQL"
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
    met = spread_rate >= arguments.target
    print(
        f"target {arguments.target:.0f} entries/s on distinct wallets: {'met' if met else 'MISSED'}"
    )
    return exit_status(arguments, correct=not any(broken.values()), met=met)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--hot-entries", type=int, default=3_000)
    parser.add_argument("--spread-entries", type=int, default=10_000)
    parser.add_argument("--target", type=float, default=1_000)
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(arguments, writers=4, processes=1, wallets=200, hot_entries=200, spread_entries=400)
    arguments.url = arguments.url or bench_url()
    raise SystemExit(asyncio.run(main(arguments)))
