"""Checkout on PostgreSQL over HTTP: quotes, holds and captures per second.

The service runs as `loyalty-bff serve --workers 2`. In the same run the baseline is a
hand-written Starlette app on raw asyncpg (bench/checkout_baseline.py) reading and writing
the same rows, also with 2 workers. Requests are pre-signed and sent by wrk (Debian's
package), 16 connections, so no Python runs on the client side (without wrk, Python sends
them, which is enough for --smoke).

Quotes for random customers, then holds of 10 points on new orders, then captures of those
holds, each step for a fixed time, in rounds with both servers up, the service and the
baseline in turn. Each hold and capture is sent once, and writes per second are the rows
written over that time (more requests are prepared than can be sent). Afterwards every
wallet invariant is checked, and the points held are those of the holds still active.

    python bench/checkout.py    (database: bench/database.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import subprocess
import tempfile
import time
from collections import deque
from pathlib import Path

import httpx
from database import bench_url, exit_status, shrink, smoke_option
from ledger_write import prepare, violations
from partner_events import ORDERS_SECRET, free_port, start
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.kernel.signing import sign

BALANCE = 100_000
HOLD_POINTS = 10
ORDER_KOPECKS = 100_000

SEED = [
    "UPDATE wallets SET balance = :balance, version = 1 WHERE currency = 'POINTS'",
    "INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, delta, "
    "held_delta, balance_after, held_after, reason, source_type, created_at) "
    "SELECT id, customer_id, 'POINTS', 1, 'accrual', :balance, 0, :balance, 0, 'Welcome', "
    "'bench', now() FROM wallets WHERE currency = 'POINTS'",
    # Points expire a year from now (relative, so the run never ages).
    "INSERT INTO lots (wallet_id, entry_id, amount, remaining, expires_at, created_at) "
    "SELECT wallet_id, id, :balance, :balance, now() + interval '365 days', now() "
    "FROM ledger_entries",
    "INSERT INTO spending_rules (currency, brand, kopecks_per_point, max_share_bp, "
    "min_money_kopecks, level_shares, active, created_at, updated_at) VALUES "
    "('POINTS', NULL, 100, 3000, 0, '{}', true, now(), now())",
    "INSERT INTO accrual_rules (code, title, currency, brand, kind, percent_bp, level_bonus, "
    "valid_from, expiry_policy, active, created_at, updated_at) VALUES ('cashback', "
    "'Cashback', 'POINTS', 'grocery', 'percent', 300, false, now() - interval '1 day', "
    "'never', true, now(), now())",
]

CHECKS = {
    "held points != active holds": """
        SELECT count(*) FROM wallets w WHERE w.held <> (
            SELECT coalesce(sum(amount), 0) FROM holds h
            WHERE h.wallet_id = w.id AND h.status = 'active')""",
    "captures not whole": """
        SELECT count(*) FROM holds WHERE status = 'captured' AND captured_amount <> amount""",
    "holds without one payment": """
        SELECT count(*) FROM holds h WHERE 1 <> (
            SELECT count(*) FROM checkout_payments p WHERE p.hold_id = h.id)""",
}

WRK_SCRIPT = """
local threads, created = 2, 0
cycle = %s
function setup(thread) thread:set("tid", created); created = created + 1 end
function init(args)
  index = tid + 1
end
function request()
  local r = requests[index]
  if r == nil and cycle then index = tid + 1; r = requests[index] end
  -- Every request was sent (more are prepared than a run can send; the run says so).
  if r == nil then return wrk.format("GET", "/healthz") end
  index = index + threads
  return wrk.format("POST", r[1],
    {["Content-Type"] = "application/json", ["X-Timestamp"] = r[3], ["X-Signature"] = r[4]},
    r[2])
end
function response(status, headers, body)
  -- The first refusal of each thread goes to stderr, for the error report.
  if status >= 300 and not told then
    told = true; io.stderr:write(status .. " " .. body .. "\\n")
  end
end
"""


async def seed(url: str, customers: int) -> None:
    await prepare(url, customers)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for statement in SEED:
            await connection.execute(text(statement), {"balance": BALANCE})
    await engine.dispose()


async def scalar_list(url: str, sql: str) -> list[int]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        found = [int(value) for value in (await connection.execute(text(sql))).scalars()]
    await engine.dispose()
    return found


async def check(url: str) -> int:
    broken = await violations(url)
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        for name, sql in CHECKS.items():
            broken[name] = int((await connection.execute(text(sql))).scalar_one())
    await engine.dispose()
    for name, count in broken.items():
        if count:
            print(f"  violated: {name} ({count})")
    return sum(broken.values())


def order_body(customer: int, order: str, **extra: object) -> dict[str, object]:
    return {
        "customer_id": f"bench-{customer}",
        "brand": "grocery",
        "city": "moscow",
        "order": {"id": order, "amount": ORDER_KOPECKS},
        **extra,
    }


Request = tuple[str, dict[str, object]]


def send(
    port: int,
    requests: list[Request],
    seconds: int,
    workdir: str,
    *,
    cycle: bool = False,
) -> float:
    """Send the requests in order for ``seconds``, each at most once unless ``cycle``;
    requests per second. Fails on a non-2xx answer. From wrk where it is installed;
    else from Python, which competes with the servers for the CPU (fine for --smoke)."""
    if shutil.which("wrk"):
        return run_wrk(port, requests, seconds, workdir, cycle=cycle)
    return asyncio.run(run_python(port, requests, seconds, cycle=cycle))


async def run_python(port: int, requests: list[Request], seconds: int, *, cycle: bool) -> float:
    pending = deque(requests)
    deadline, sent = time.monotonic() + seconds, 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

        async def connection() -> None:
            nonlocal sent
            while pending and time.monotonic() < deadline:
                path, payload = pending.popleft()
                if cycle:
                    pending.append((path, payload))
                body = json.dumps(payload).encode()
                stamp = int(time.time())
                headers = {
                    "x-timestamp": str(stamp),
                    "x-signature": sign(ORDERS_SECRET, stamp, body),
                }
                answer = await client.post(path, content=body, headers=headers)
                if answer.status_code >= 300:
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
                sent += 1

        started = time.monotonic()
        await asyncio.gather(*(connection() for _ in range(16)))
    return sent / (time.monotonic() - started)


def run_wrk(
    port: int,
    requests: list[Request],
    seconds: int,
    workdir: str,
    *,
    cycle: bool = False,
) -> float:
    """From wrk, pre-signed (a signature stays valid for 5 minutes)."""
    stamp = int(time.time())
    lines = []
    for path, payload in requests:
        body = json.dumps(payload)
        signature = sign(ORDERS_SECRET, stamp, body.encode())
        lines.append(f'{{"{path}", {json.dumps(body)}, "{stamp}", "{signature}"}},')
    script = Path(workdir) / "checkout.lua"
    script.write_text(
        "requests = {\n" + "\n".join(lines) + "\n}\n" + WRK_SCRIPT % str(cycle).lower()
    )
    output = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in output.stdout:
        raise RuntimeError(f"wrk saw errors:\n{output.stdout}{output.stderr}")
    rate = next(line for line in output.stdout.splitlines() if line.startswith("Requests/sec"))
    return float(rate.split()[1])


def settle() -> None:
    """Let the requests wrk left in flight finish before the rows are counted (and before
    the next run is given holds one of them may still be capturing)."""
    time.sleep(0.5)


async def count(url: str, sql: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        found = int((await connection.execute(text(sql))).scalar_one())
    await engine.dispose()
    return found


KINDS = ("service", "baseline")
STEPS = ("quote", "hold", "capture")
CAPTURED = "SELECT count(*) FROM holds WHERE status = 'captured'"


def quotes(arguments: argparse.Namespace) -> list[Request]:
    """Quotes for random customers, sent in turn."""
    rng = random.Random(17)
    return [
        ("/api/checkout/quote", order_body(rng.randint(1, arguments.customers), f"q-{n}"))
        for n in range(arguments.quotes)
    ]


def holds(arguments: argparse.Namespace, run: str) -> list[Request]:
    """Holds on new orders of random customers, each sent once; ``run`` keeps the orders
    and keys of each run apart."""
    rng = random.Random(run)
    return [
        (
            "/api/checkout/holds",
            order_body(
                rng.randint(1, arguments.customers),
                f"{run}-{n}",
                points=HOLD_POINTS,
                idempotency_key=f"{run}-{n}",
            ),
        )
        for n in range(arguments.holds)
    ]


def measure(
    ports: dict[str, int], url: str, arguments: argparse.Namespace, workdir: str
) -> dict[str, dict[str, list[float]]]:
    """Each step in rounds, the service and the baseline in turn: this shared machine
    drifts by the minute, and a drift between two servers' runs would be the ratio."""
    asked = quotes(arguments)
    seconds, half = arguments.seconds, max(1, arguments.seconds // 2)
    rates: dict[str, dict[str, list[float]]] = {kind: {s: [] for s in STEPS} for kind in KINDS}
    for _ in range(arguments.rounds):
        for kind in KINDS:
            rates[kind]["quote"].append(send(ports[kind], asked, seconds, workdir, cycle=True))
    exhausted = False
    for number in range(arguments.rounds):
        for kind in KINDS:
            before = asyncio.run(count(url, "SELECT count(*) FROM holds"))
            send(ports[kind], holds(arguments, f"{kind}{number}"), seconds, workdir)
            settle()
            made = asyncio.run(count(url, "SELECT count(*) FROM holds")) - before
            exhausted = exhausted or made >= arguments.holds
            rates[kind]["hold"].append(made / seconds)
    for _ in range(arguments.rounds):
        for turn, kind in enumerate(KINDS):
            active = asyncio.run(
                scalar_list(url, "SELECT id FROM holds WHERE status = 'active' ORDER BY id")
            )
            # From the other end of the list in turns, far from the previous run's last ones.
            ordered = active if turn % 2 == 0 else active[::-1]
            captures: list[Request] = [(f"/api/checkout/holds/{i}/capture", {}) for i in ordered]
            before = asyncio.run(count(url, CAPTURED))
            # Half the time: more holds are active than can be captured in it.
            send(ports[kind], captures, half, workdir)
            settle()
            rates[kind]["capture"].append((asyncio.run(count(url, CAPTURED)) - before) / half)
    if exhausted and not arguments.smoke:
        print("  every hold prepared was sent: raise --holds for a true rate")
    return rates


def main(arguments: argparse.Namespace) -> int:
    url = arguments.url
    print(
        f"\ncheckout benchmark: {platform.node()}, {os.cpu_count()} cores, PostgreSQL, "
        f"2 workers per server, pre-signed requests from wrk (16 connections), "
        f"{arguments.rounds} rounds of each server in turn"
    )
    asyncio.run(seed(url, arguments.customers))
    with tempfile.TemporaryDirectory() as workdir:
        ports = {kind: free_port() for kind in KINDS}
        servers = [
            start(kind, url, ports[kind], workdir, baseline="checkout_baseline:app")
            for kind in KINDS
        ]
        try:
            rates = measure(ports, url, arguments, workdir)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    broken = asyncio.run(check(url))
    print(f"{'step':8} {'baseline/s':>10} {'service/s':>10} {'ratio':>6}   per round")
    ratios, mean = (
        {},
        {kind: {s: sum(r) / len(r) for s, r in rates[kind].items()} for kind in KINDS},
    )
    for step in STEPS:
        base, service = mean["baseline"][step], mean["service"][step]
        ratios[step] = service / base if base else 0.0
        rounds = ", ".join(
            f"{s:.0f}/{b:.0f}"
            for s, b in zip(rates["service"][step], rates["baseline"][step], strict=True)
        )
        print(f"{step:8} {base:>10.0f} {service:>10.0f} {ratios[step]:>6.2f}   {rounds}")
    print(f"invariant violations after both servers' runs: {broken}")
    met = mean["service"]["quote"] >= 1000 and ratios["hold"] >= 0.7 and ratios["capture"] >= 0.7
    print(f"targets 1,000 quotes/s, writes at 0.7 of the baseline: {'met' if met else 'MISSED'}")
    return exit_status(arguments, correct=broken == 0, met=met)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL (default: bench/database.py)")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--quotes", type=int, default=5_000, help="sent in turn")
    parser.add_argument("--holds", type=int, default=30_000, help="prepared per run, at most")
    parser.add_argument(
        "--seconds", type=int, default=5, help="per round of quotes and of holds (captures: half)"
    )
    parser.add_argument("--rounds", type=int, default=2)
    smoke_option(parser)
    arguments = parser.parse_args()
    shrink(arguments, customers=100, quotes=200, holds=4_000, seconds=1, rounds=1)
    arguments.url = arguments.url or bench_url()
    raise SystemExit(main(arguments))
