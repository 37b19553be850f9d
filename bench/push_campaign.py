"""A push campaign to 100,000 devices: messages/s with one worker and with two, and peak
memory, on PostgreSQL, against a local FCM HTTP v1 server (bench/fcm_server.py on uvicorn).

The real `loyalty-bff worker` processes send through the real firebase-admin client; the
run ends when every message is SENT. Peak memory is each worker's maximum resident set
(wait4). In the same run, the baseline is a hand-written sender: plain aiohttp posting the
same FCM v1 requests for the same devices, reading and writing no database.

    python bench/push_campaign.py    (database: bench/database.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
from database import bench_url, exit_status, shrink, smoke_option
from partner_events import free_port
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.kernel.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = {
    "en": {"title": "Hello {{ name or 'there' }}", "body": "You have {{ balances.POINTS }} points"}
}


async def prepare(url: str, devices: int) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    statements = [
        "INSERT INTO customers (external_id, created_at) "
        "SELECT 'bench-' || n, now() FROM generate_series(1, :n) AS n",
        "INSERT INTO wallets (customer_id, currency, balance, held, version, created_at, "
        "updated_at) SELECT id, 'POINTS', id % 1000, 0, 0, now(), now() FROM customers",
        "INSERT INTO push_devices (customer_id, token, platform, app_version, locale, timezone, "
        "active, created_at, seen_at) SELECT id, 'bench-token-' || id || '-abcdefghijklmnop', "
        "'ANDROID', '5.0.0', 'en', 'UTC', true, now(), now() FROM customers",
        "INSERT INTO push_preferences (customer_id, category, enabled, updated_at) "
        "SELECT id, 'MARKETING', true, now() FROM customers",
        "INSERT INTO push_segments (name, rule, created_by, created_at) VALUES "
        """('everyone', '{"marketingOptIn": true}', 'bench', now())""",
        "ANALYZE",
    ]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), {"n": devices})
    await engine.dispose()


async def new_campaign(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM push_messages"))
        await connection.execute(text("DELETE FROM push_campaigns"))
        await connection.execute(
            text(
                "INSERT INTO push_campaigns (name, segment_id, category, templates, status, "
                "send_at, quiet_start_minute, quiet_end_minute, targeted, slowdowns, "
                "created_by, created_at) VALUES ('bench', 1, 'MARKETING', :templates, "
                "'SCHEDULED', now(), 0, 0, 0, 0, 'bench', now())"
            ),
            {"templates": json.dumps(TEMPLATES)},
        )
    await engine.dispose()


async def sent_count(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM push_messages WHERE status = 'SENT'")
        )
    await engine.dispose()
    return int(count or 0)


def start_fcm(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "fcm_server:app", "--port", str(port)),
            *("--log-level", "warning", "--no-access-log", "--backlog", "4096"),
        ],
        cwd=ROOT / "bench",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/count", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("fake FCM did not start")


def run_workers(
    url: str, fcm_port: int, workers: int, devices: int, data_dir: str
) -> tuple[float, int]:
    asyncio.run(new_campaign(url))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BFF_")},
        "BFF_DATABASE_URL": url,
        "BFF_DATA_DIR": data_dir,
        "BFF_FCM_PROJECT_ID": "bench",
        "BFF_FCM_URL": f"http://127.0.0.1:{fcm_port}/v1/projects/{{0}}/messages:send",
        "BFF_WORKER_INTERVAL_SECONDS": "0.2",
    }
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bff", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        while asyncio.run(sent_count(url)) < devices:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a worker stopped")
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
    peak = 0
    for process in processes:
        _, _, usage = os.wait4(process.pid, 0)
        peak = max(peak, usage.ru_maxrss * 1024)
    return elapsed, peak


async def baseline(fcm_port: int, devices: int) -> float:
    """Plain aiohttp, the same FCM v1 requests in batches of 500 at once over a pool of 100
    connections (as the worker sends them), nothing read from or written to a database."""
    url = f"http://127.0.0.1:{fcm_port}/v1/projects/bench/messages:send"
    headers = {"authorization": "Bearer x", "content-type": "application/json"}

    async def post(session: aiohttp.ClientSession, n: int) -> None:
        body = {
            "message": {
                "token": f"bench-token-{n}-abcdefghijklmnop",
                "notification": {"title": "Hello there", "body": f"You have {n % 1000} points"},
            }
        }
        async with session.post(url, data=json.dumps(body), headers=headers) as response:
            response.raise_for_status()
            await response.read()

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        for first in range(1, devices + 1, 500):
            batch = range(first, min(first + 500, devices + 1))
            await asyncio.gather(*(post(session, n) for n in batch))
    return time.perf_counter() - started


def main(arguments: argparse.Namespace) -> int:
    port = free_port()
    print(
        f"\npush campaign: {platform.node()}, {os.cpu_count()} cores, PostgreSQL, "
        f"{arguments.devices:,} devices, local FCM v1 server"
    )
    asyncio.run(prepare(arguments.url, arguments.devices))
    fcm = start_fcm(port)
    met = True
    try:
        import uvloop

        base_rate = arguments.devices / uvloop.run(baseline(port, arguments.devices))
        print(f"{'hand-written aiohttp':22} {base_rate:>8.0f} messages/s")
        with tempfile.TemporaryDirectory() as data_dir:
            for workers in (1, 2):
                elapsed, peak = run_workers(
                    arguments.url, port, workers, arguments.devices, data_dir
                )
                rate = arguments.devices / elapsed
                per_worker = rate / workers
                print(
                    f"{f'loyalty-bff, {workers} worker(s)':22} {rate:>8.0f} messages/s "
                    f"({per_worker:.0f} per worker, {rate / base_rate:.2f} of the baseline), "
                    f"peak {peak / 2**20:.0f} MiB per worker"
                )
                met = met and per_worker >= 800 and peak < 250 * 2**20
    finally:
        fcm.terminate()
        fcm.wait(timeout=10)
    print(f"targets (800 messages/s per worker, under 250 MB): {'met' if met else 'MISSED'}")
    return exit_status(arguments, correct=True, met=met)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--devices", type=int, default=100_000)
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(arguments, devices=300)
    arguments.url = arguments.url or bench_url()
    raise SystemExit(main(arguments))
