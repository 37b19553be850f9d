"""Partner events ingested per second on PostgreSQL, over HTTP, single and batch form.

The service runs as `loyalty-bff serve --workers 2`; every request is signed and every
event id is checked for replays. In the same run the baseline is a hand-written Starlette
endpoint on raw asyncpg (bench/partner_baseline.py) doing the same writes, also with 2
workers. Single events come from wrk (Debian's package) with pre-signed requests, so no
Python runs on the client side; batches come from one uvloop process, 8 requests in flight.

    python bench/partner_events.py    (database: bench/database.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from database import bench_url, exit_status, shrink, smoke_option
from ledger_write import prepare, violations
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.kernel.global_ids import encode_id
from bff.kernel.secrets import SecretBox
from bff.kernel.signing import sign

SECRET = "bench-partner-secret"
ORDERS_SECRET = "bench-orders-secret"
# Now, not a fixed date: the offer opens a day before the run.
OCCURRED_AT = datetime.now(UTC).isoformat()
KEY = Fernet.generate_key().decode()
ROOT = Path(__file__).resolve().parent.parent


async def seed(url: str, customers: int) -> None:
    """A partner with a known secret, one open offer, every customer activated."""
    await prepare(url, customers)
    sealed = SecretBox(KEY.encode()).seal(SECRET)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO partners (code, name, category, description, secret_encrypted, "
                "active, created_at, updated_at) VALUES ('bank', 'Bank', 'bank', '', :secret, "
                "true, now(), now())"
            ),
            {"secret": sealed},
        )
        await connection.execute(
            text(
                "INSERT INTO offers (partner_id, title, description, terms, currency, reward_kind, "
                "reward_points, valid_from, budget_spent, active, created_at, updated_at) VALUES "
                "(1, 'Bench offer', '', '', 'POINTS', 'fixed', 10, now() - interval '1 day', 0, "
                "true, now(), now())"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO offer_activations (offer_id, customer_id, active, completions, "
                "activated_at) SELECT 1, id, true, 0, now() FROM customers"
            )
        )
    await engine.dispose()


async def reset(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE partner_events, lots, ledger_entries RESTART IDENTITY CASCADE")
        )
        await connection.execute(text("UPDATE wallets SET balance = 0, held = 0, version = 0"))
        await connection.execute(text("UPDATE offer_activations SET completions = 0"))
    await engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    kind: str, url: str, port: int, data_dir: str, baseline: str = "partner_baseline:app"
) -> subprocess.Popen[bytes]:
    """`serve --workers 2` (kind "service") or the ``baseline`` app under uvicorn, also
    with 2 workers; back when /healthz answers."""
    env = {
        **os.environ,
        "BFF_ORDERS_HMAC_SECRET": ORDERS_SECRET,
        "BFF_DATABASE_URL": url,
        "BFF_SECRETS_KEY": KEY,
        "BFF_DATA_DIR": data_dir,
        "BENCH_PARTNER_SECRET": SECRET,
        "BENCH_ASYNCPG_URL": url.replace("postgresql+asyncpg", "postgresql"),
        "PYTHONPATH": str(ROOT / "bench"),
    }
    if kind == "service":
        command = [sys.executable, "-m", "bff", "serve", "--workers", "2", "--port", str(port)]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            baseline,
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    server = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{kind} server did not start")


async def drive(port: int, customers: int, events: int, batch: int, concurrency: int) -> float:
    offer = encode_id("Offer", 1)
    rng = random.Random(11)
    bodies = []
    for start_at in range(0, events, batch):
        items = [
            {
                "id": f"e-{n}",
                "type": "offer.completed",
                "offer_id": offer,
                "customer_id": f"bench-{rng.randint(1, customers)}",
                "occurred_at": OCCURRED_AT,
            }
            for n in range(start_at, min(events, start_at + batch))
        ]
        payload = {"events": items} if batch > 1 else items[0]
        bodies.append(json.dumps(payload).encode())
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                stamp = int(time.time())
                response = await client.post(
                    "/api/partners/bank/events",
                    content=body,
                    headers={
                        "content-type": "application/json",
                        "x-timestamp": str(stamp),
                        "x-signature": sign(SECRET, stamp, body),
                    },
                )
                answer = response.json()
                results = answer.get("results", [answer])
                if response.status_code != 200 or any(r["status"] != "accrued" for r in results):
                    raise RuntimeError(f"unexpected answer: {response.status_code} {answer}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


WRK_SCRIPT = """
local threads, created = %d, 0
function setup(thread) thread:set("tid", created); created = created + 1 end
function init(args) index = tid + 1 end
function request()
  local r = requests[index]
  index = index + threads
  if r == nil then index = tid + 1; r = requests[index] end
  return wrk.format("POST", "/api/partners/bank/events",
    {["Content-Type"] = "application/json", ["X-Timestamp"] = r[2], ["X-Signature"] = r[3]},
    r[1])
end
"""


def drive_wrk(port: int, customers: int, events: int, seconds: int, workdir: str) -> float:
    """Single events from wrk (C, no Python on the client side), pre-signed: a signature
    stays valid for 5 minutes. Returns events/s; fails on any non-2xx answer."""
    offer = encode_id("Offer", 1)
    rng = random.Random(13)
    stamp = int(time.time())
    lines = []
    for n in range(events):
        body = json.dumps(
            {
                "id": f"w-{n}",
                "type": "offer.completed",
                "offer_id": offer,
                "customer_id": f"bench-{rng.randint(1, customers)}",
                "occurred_at": OCCURRED_AT,
            }
        )
        signature = sign(SECRET, stamp, body.encode())
        lines.append(f'{{{json.dumps(body)}, "{stamp}", "{signature}"}},')
    script = Path(workdir) / "events.lua"
    script.write_text("requests = {\n" + "\n".join(lines) + "\n}\n" + WRK_SCRIPT % 2)
    output = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/partners/bank/events",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rate = next(line for line in output.splitlines() if line.startswith("Requests/sec"))
    return float(rate.split()[1])


def main(arguments: argparse.Namespace) -> int:
    import uvloop

    url = arguments.url
    asyncio.run(seed(url, arguments.customers))
    print(
        f"\npartner events benchmark: {platform.node()}, {os.cpu_count()} cores, PostgreSQL, "
        "2 server workers, signed requests over HTTP"
    )
    print(f"{'form':7} {'server':9} {'events':>7} {'events/s':>9} {'violations':>10}")
    rates: dict[tuple[str, str], float] = {}
    ok = True
    forms = [
        ("single", arguments.single_events, 1, 32),
        ("batch", arguments.batch_events, arguments.batch_size, arguments.batch_concurrency),
    ]
    with tempfile.TemporaryDirectory() as data_dir:
        for form, total, size, concurrency in forms:
            for kind in ("baseline", "service"):
                asyncio.run(reset(url))
                port = free_port()
                server = start(kind, url, port, data_dir)
                try:
                    if form == "single" and shutil.which("wrk"):
                        rate = drive_wrk(
                            port, arguments.customers, total, arguments.seconds, data_dir
                        )
                    else:
                        seconds = uvloop.run(
                            drive(port, arguments.customers, total, size, concurrency)
                        )
                        rate = total / seconds
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                broken = sum(asyncio.run(violations(url)).values()) if kind == "service" else 0
                ok = ok and broken == 0
                rates[(form, kind)] = rate
                print(f"{form:7} {kind:9} {total:>7} {rate:>9.0f} {broken:>10}")
    for form in ("single", "batch"):
        ratio = rates[(form, "service")] / rates[(form, "baseline")]
        print(f"{form}: service / hand-written baseline = {ratio:.2f}")
    met = rates[("single", "service")] >= 500 and rates[("batch", "service")] >= 3000
    print(f"targets 500 events/s single, 3,000 batched: {'met' if met else 'MISSED'}")
    return exit_status(arguments, correct=ok, met=met)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument(
        "--single-events", type=int, default=20_000, help="pre-signed events wrk can send"
    )
    parser.add_argument("--seconds", type=int, default=8, help="how long wrk sends")
    parser.add_argument("--batch-events", type=int, default=40_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--batch-concurrency",
        type=int,
        default=8,
        help="batch requests in flight (a partner catching up after an outage)",
    )
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(
        arguments,
        customers=200,
        single_events=300,
        seconds=1,
        batch_events=1_000,
        batch_size=100,
        batch_concurrency=2,
    )
    arguments.url = arguments.url or bench_url()
    raise SystemExit(main(arguments))
