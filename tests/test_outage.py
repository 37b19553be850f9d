"""PostgreSQL stopped under a running web server and worker, then started again: both
recover by themselves, and every order the ordering system saw acknowledged is there
once, its points posted once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bff.earning.models import Order, PendingAccrual, PendingStatus
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.embedded_db import EmbeddedServer
from bff.kernel.signing import sign
from bff.ledger.models import LedgerEntry, Wallet
from tests.fixtures.database import FAST_AND_LOOSE
from tests.fixtures.earning import ORDERS_SECRET, completed, make_rule
from tests.ledger.invariants import check_wallet_invariants
from tests.test_cli import CLI, ROOT, _free_port, clean_environment, run, wait_until_ready

ORDERS = 60
STOP_AFTER = 20


def send_once(base: str, event: dict) -> httpx.Response:
    body = json.dumps(event).encode()
    stamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "x-timestamp": str(stamp),
        "x-signature": sign(ORDERS_SECRET, stamp, body),
    }
    return httpx.post(f"{base}/api/orders/events", content=body, headers=headers, timeout=10)


def send_until_acknowledged(base: str, event: dict, seen: Counter) -> None:
    """The ordering system's side: the same event again until it is acknowledged."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = send_once(base, event)
        seen[response.status_code] += 1
        if response.status_code == 200:
            return
        assert response.status_code == 503, response.text  # an outage, said as one
        time.sleep(0.2)
    raise AssertionError(f"{event['id']} was never acknowledged")


def order(number: int) -> dict:
    return completed(f"evt-{number}", f"A-{number}", 40_000, customer=f"c-{number % 7}")


async def posted_everything(db: Database) -> bool:
    async with db.read() as session:
        waiting = await session.scalar(
            select(func.count()).where(PendingAccrual.status != PendingStatus.ACCRUED)
        )
    return waiting == 0


def test_the_web_server_and_worker_outlive_a_database_restart(tmp_path: Path):
    server = EmbeddedServer(tmp_path / "postgres", settings=FAST_AND_LOOSE)
    url = server.ensure_running("outage")
    env = {
        **clean_environment(),
        "BFF_DATA_DIR": str(tmp_path / "data"),
        "BFF_DATABASE_URL": url,
        "BFF_ORDERS_HMAC_SECRET": ORDERS_SECRET,
        "BFF_ORDER_HOLD_SECONDS": "0",
        "BFF_WORKER_INTERVAL_SECONDS": "0.2",
        "BFF_DB_CONNECT_TIMEOUT_SECONDS": "2",
    }
    run(["migrate"], env)
    asyncio.run(with_database(url, make_rule))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "processes.log").open("wb")
    processes = [
        subprocess.Popen([*CLI, *command], env=env, cwd=ROOT, stdout=log, stderr=log)
        for command in (["serve", "--port", str(port)], ["worker"])
    ]
    seen: Counter = Counter()
    try:
        wait_until_ready(f"{base}/readyz")
        for number in range(ORDERS):
            if number == STOP_AFTER:
                server.stop()
                for down in range(number, number + 5):
                    refused = send_once(base, order(down))
                    assert refused.status_code == 503, refused.text
                    assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
                    seen["while down"] += 1
                server.ensure_running("outage")
            send_until_acknowledged(base, order(number), seen)
        assert [process.poll() for process in processes] == [None, None], seen
        wait_until_ready(f"{base}/readyz")
        asyncio.run(with_database(url, check_everything_once))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        server.stop()


async def with_database(url: str, work: Callable[[Database], Awaitable[object]]) -> None:
    db = Database(Settings(database_url=url))
    try:
        await work(db)
    finally:
        await db.dispose()


async def check_everything_once(db: Database) -> None:
    for _ in range(300):
        if await posted_everything(db):
            break
        await asyncio.sleep(0.1)
    async with db.read() as session:
        orders = await session.scalar(select(func.count(Order.id)))
        pending = (await session.scalars(select(PendingAccrual))).all()
        entries = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.source_type == "pending"))
        ).all()
        wallets = (await session.scalars(select(Wallet.id))).all()
    assert orders == ORDERS
    assert [row.status for row in pending] == [PendingStatus.ACCRUED] * ORDERS
    assert Counter(entry.source_id for entry in entries) == Counter(str(row.id) for row in pending)
    assert sum(entry.delta for entry in entries) == sum(row.amount for row in pending)
    for wallet in wallets:
        await check_wallet_invariants(db, wallet)
