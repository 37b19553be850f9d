"""Pending-accrual drain throughput on PostgreSQL, with the invariants checked after.

A queue of due accruals (100,000 rows over 10,000 customers) is drained by 1 and then
2 worker processes, each taking batches of 500 with FOR UPDATE SKIP LOCKED, as
`loyalty-bff worker` does. In the same run a baseline drains the same queue with
hand-written SQL on raw asyncpg (same locking, same writes), for the ratio.

    python bench/worker_drain.py    (database: bench/database.py)
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import time

import asyncpg
from database import bench_url, exit_status, shrink, smoke_option
from ledger_write import prepare, violations
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.earning.service import AccrualQueue
from bff.kernel.config import Settings
from bff.kernel.db import Database

BATCH = 500


async def fill_queue(url: str, rows: int, customers: int) -> None:
    """Reset the ledger and queue, then enqueue ``rows`` due accruals."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "TRUNCATE pending_accruals, lots, ledger_entries, idempotency_records, orders, "
                "accrual_rules RESTART IDENTITY CASCADE"
            )
        )
        await connection.execute(text("UPDATE wallets SET balance = 0, held = 0, version = 0"))
        await connection.execute(
            text(
                "INSERT INTO accrual_rules (code, title, currency, kind, step_amount, "
                "points_per_step, level_bonus, valid_from, expiry_policy, active, created_at, "
                "updated_at) VALUES ('coins', 'Pizza order', 'COINS', 'per_amount', 2000, 1, "
                "false, now() - interval '1 year', 'never', true, now(), now())"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO orders (external_id, brand, customer_id, amount, refunded_amount, "
                "status, completed_at, created_at) SELECT 'A-' || n, 'pizza', 1 + n % :customers, "
                "100000, 0, 'completed', now() - interval '3 hours', now() "
                "FROM generate_series(1, :rows) AS n"
            ),
            {"rows": rows, "customers": customers},
        )
        await connection.execute(
            text(
                "INSERT INTO pending_accruals (order_id, rule_id, customer_id, currency, "
                "computed_amount, amount, reversed_amount, shortfall, status, due_at, reason, "
                "expiry_policy, created_at) SELECT o.id, 1, o.customer_id, 'COINS', 50, 50, 0, 0, "
                "'pending', now() - interval '1 hour', 'Pizza order', 'never', now() FROM orders o"
            )
        )
    await engine.dispose()


async def drain_service(url: str) -> int:
    db = Database(Settings(database_url=url, db_pool_size=2))
    taken = 0
    while True:
        async with db.unit_of_work() as session:
            batch = await AccrualQueue(session).drain(BATCH)
        taken += batch
        if batch == 0:
            await db.dispose()
            return taken


async def drain_baseline(url: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    taken = 0
    while True:
        async with connection.transaction():
            rows = await connection.fetch(
                "SELECT id, customer_id, amount FROM pending_accruals WHERE status = 'pending' "
                "AND due_at <= now() ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
                BATCH,
            )
            done = []
            for row in sorted(rows, key=lambda r: (r["customer_id"], r["id"])):
                wallet = await connection.fetchrow(
                    "UPDATE wallets SET balance = balance + $1, version = version + 1, "
                    "updated_at = now() WHERE customer_id = $2 AND currency = 'COINS' "
                    "RETURNING id, balance, held, version",
                    row["amount"],
                    row["customer_id"],
                )
                entry_id = await connection.fetchval(
                    "WITH e AS (INSERT INTO ledger_entries (wallet_id, customer_id, currency, "
                    "version, kind, delta, held_delta, balance_after, held_after, reason, "
                    "source_type, source_id, created_at) VALUES ($1, $2, 'COINS', $3, 'accrual', "
                    "$4, 0, $5, 0, 'Pizza order', 'pending', $6, now()) RETURNING id) "
                    "INSERT INTO lots (entry_id, wallet_id, amount, remaining, created_at) "
                    "SELECT id, $1, $4, $4, now() FROM e RETURNING entry_id",
                    wallet["id"],
                    row["customer_id"],
                    wallet["version"],
                    row["amount"],
                    wallet["balance"],
                    str(row["id"]),
                )
                done.append((row["id"], entry_id))
            await connection.executemany(
                "UPDATE pending_accruals SET status = 'accrued', entry_id = $2, "
                "processed_at = now() WHERE id = $1",
                done,
            )
        taken += len(rows)
        if not rows:
            await connection.close()
            return taken


def _worker(job: tuple[str, str, float]) -> tuple[int, float]:
    import uvloop

    kind, url, start_at = job
    time.sleep(max(0.0, start_at - time.time()))
    taken = uvloop.run((drain_service if kind == "service" else drain_baseline)(url))
    return taken, time.time()


def measure(kind: str, url: str, workers: int) -> tuple[int, float]:
    start_at = time.time() + 3.0
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.map(_worker, [(kind, url, start_at)] * workers)
    return sum(taken for taken, _ in results), max(end for _, end in results) - start_at


async def queue_left(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        left = (
            await connection.execute(
                text("SELECT count(*) FROM pending_accruals WHERE status = 'pending'")
            )
        ).scalar_one()
    await engine.dispose()
    return int(left)


def main(arguments: argparse.Namespace) -> int:
    url = arguments.url
    asyncio.run(prepare(url, arguments.customers))
    print(
        f"\nworker drain benchmark: {platform.node()}, {os.cpu_count()} cores, PostgreSQL, "
        f"{arguments.rows} due accruals over {arguments.customers} customers, batches of {BATCH}"
    )
    print(f"{'workers':>7} {'drainer':9} {'rows':>8} {'rows/s':>8} {'violations':>10}")
    rates, ok = {}, True
    for workers in (1, 2):
        for kind in ("baseline", "service"):
            asyncio.run(fill_queue(url, arguments.rows, arguments.customers))
            taken, seconds = measure(kind, url, workers)
            broken = asyncio.run(violations(url))
            left = asyncio.run(queue_left(url))
            bad = sum(broken.values()) + left + abs(taken - arguments.rows)
            ok = ok and bad == 0
            rates[(workers, kind)] = taken / seconds
            print(f"{workers:>7} {kind:9} {taken:>8} {taken / seconds:>8.0f} {bad:>10}")
    for workers in (1, 2):
        ratio = rates[(workers, "service")] / rates[(workers, "baseline")]
        print(f"{workers} worker(s): service / hand-written baseline = {ratio:.2f}")
    best = max(rates[(1, "service")], rates[(2, "service")])
    print(
        f"target {arguments.target:.0f} rows/s: {'met' if best >= arguments.target else 'MISSED'}"
    )
    return exit_status(arguments, correct=ok, met=best >= arguments.target)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--target", type=float, default=2_000)
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(arguments, rows=1_000, customers=100)
    arguments.url = arguments.url or bench_url()
    raise SystemExit(main(arguments))
