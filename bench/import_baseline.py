"""A hand-written balance import on raw asyncpg: the floor for bench/import_balances.py.

Reads the CSV with the csv module and, per batch of 2,000 rows in one transaction,
inserts the customers, their wallets with the balance and one entry each, with
set-based statements. No idempotency keys, no lots, no validation beyond int().

    python bench/import_baseline.py FILE postgresql://bff:bff@127.0.0.1/bff_bench
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Iterator
from itertools import islice

import asyncpg

BATCH = 2000

CUSTOMERS = """
INSERT INTO customers (external_id, created_at) SELECT unnest($1::varchar[]), now()
ON CONFLICT (external_id) DO UPDATE SET external_id = EXCLUDED.external_id
RETURNING id, external_id
"""
WALLETS = """
INSERT INTO wallets (customer_id, currency, balance, held, version, created_at, updated_at)
SELECT i.customer_id, 'POINTS', i.amount, 0, 1, now(), now()
FROM unnest($1::bigint[], $2::bigint[]) AS i(customer_id, amount)
RETURNING id, customer_id, balance
"""
ENTRIES = """
INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, delta,
    held_delta, balance_after, held_after, reason, source_type, source_id, created_at)
SELECT w, c, 'POINTS', 1, 'accrual', b, 0, b, 0, 'Imported', 'import', NULL, now()
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS i(w, c, b)
"""


async def main(reader: Iterator[list[str]], url: str) -> None:
    connection = await asyncpg.connect(url)
    next(reader)
    while batch := list(islice(reader, BATCH)):
        customers = [row[0] for row in batch]
        amounts = [int(row[1]) for row in batch]
        async with connection.transaction():
            ids = {
                row["external_id"]: row["id"]
                for row in await connection.fetch(CUSTOMERS, customers)
            }
            wallets = await connection.fetch(WALLETS, [ids[c] for c in customers], amounts)
            await connection.execute(
                ENTRIES,
                [w["id"] for w in wallets],
                [w["customer_id"] for w in wallets],
                [w["balance"] for w in wallets],
            )
    await connection.close()


if __name__ == "__main__":
    with open(sys.argv[1], newline="") as source:
        asyncio.run(main(csv.reader(source), sys.argv[2]))
