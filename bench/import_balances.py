"""`loyalty-bff import-balances` of a generated CSV file into PostgreSQL: rows/s and the
command's peak memory, against a hand-written asyncpg importer run in the same session.

The service's run is the real command in its own process (progress bar, idempotency
keys, lots, one transaction per batch). The baseline (bench/import_baseline.py) reads the
same file with the csv module and writes customers, wallets and entries in batches with
set-based statements, without keys or lots. After each run the ledger invariants are
checked and the imported total is compared with the file's.

    python bench/import_balances.py    (database: bench/database.py) --rows 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from database import bench_url, exit_status, shrink, smoke_option
from ledger_write import violations
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.kernel.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, rows: int) -> int:
    """customer_id,amount,expires_at for ``rows`` customers; a third have an expiry.
    Returns the file's total."""
    rng = random.Random(5)
    total = 0
    first_day = date(2027, 1, 1)
    with path.open("w") as out:
        out.write("customer_id,amount,expires_at\n")
        for number in range(rows):
            amount = rng.randint(1, 5000)
            total += amount
            expiry = first_day + timedelta(days=number % 365) if number % 3 == 0 else ""
            out.write(f"legacy-{number},{amount},{expiry}\n")
    return total


async def empty_database(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await engine.dispose()


async def imported_total(url: str) -> tuple[int, int]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT count(*), coalesce(sum(balance), 0) FROM wallets")
            )
        ).one()
    await engine.dispose()
    return int(row[0]), int(row[1])


def run_child(command: list[str], url: str) -> tuple[float, int]:
    """Seconds and peak resident memory (MiB) of one child process."""
    env = {**os.environ, "BFF_DATABASE_URL": url, "PYTHONPATH": str(ROOT / "bench")}
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{command[2:4]} failed:\n{errors.read()[-2000:]}")
    return seconds, usage.ru_maxrss // 1024


def measure(kind: str, url: str, path: Path, rows: int, total: int) -> tuple[float, int, int]:
    asyncio.run(empty_database(url))
    if kind == "service":
        command = [
            sys.executable,
            "-m",
            "bff",
            "import-balances",
            str(path),
            "--currency",
            "POINTS",
            "--batch-size",
            "2000",
            "--workers",
            "4",
        ]
    else:
        command = [
            sys.executable,
            str(ROOT / "bench" / "import_baseline.py"),
            str(path),
            url.replace("postgresql+asyncpg", "postgresql"),
        ]
    seconds, peak = run_child(command, url)
    wallets, balance = asyncio.run(imported_total(url))
    if (wallets, balance) != (rows, total):
        raise RuntimeError(f"{kind}: {wallets} wallets, {balance} in all; expected {rows}, {total}")
    broken = sum(asyncio.run(violations(url)).values()) if kind == "service" else 0
    return rows / seconds, peak, broken


def main(arguments: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "balances.csv"
        total = generate(path, arguments.rows)
        size = path.stat().st_size / 2**20
        print(
            f"\nimport-balances benchmark: {platform.node()}, {os.cpu_count()} cores, "
            f"PostgreSQL, {arguments.rows:,} rows ({size:.0f} MiB)"
        )
        print(f"{'importer':9} {'rows/s':>9} {'peak MiB':>9} {'violations':>10}")
        results = {}
        for kind in ("baseline", "service"):
            rate, peak, broken = measure(kind, arguments.url, path, arguments.rows, total)
            results[kind] = (rate, peak, broken)
            print(f"{kind:9} {rate:>9,.0f} {peak:>9} {broken:>10}")
    rate, peak, broken = results["service"]
    print(f"service / hand-written baseline = {rate / results['baseline'][0]:.2f}")
    met = rate >= 10_000 and peak < 300
    print(f"targets 10,000 rows/s and under 300 MiB: {'met' if met else 'MISSED'}")
    return exit_status(arguments, correct=broken == 0, met=met)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(arguments, rows=2_000)
    arguments.url = arguments.url or bench_url()
    raise SystemExit(main(arguments))
