"""A hand-written partner events endpoint on raw asyncpg: the floor for the benchmark.

It checks the signature and the event id like the service and does the same writes
(event row, wallet, entry, activation), without the service's rules and layers.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bff.kernel.signing import SignatureError, verify

SECRET = os.environ.get("BENCH_PARTNER_SECRET", "bench-partner-secret")
URL = os.environ.get("BENCH_ASYNCPG_URL", "postgresql://bff:bff@127.0.0.1/bff_bench")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(URL, min_size=4, max_size=10)
    yield
    await app.state.pool.close()


async def post_one(connection: asyncpg.Connection, event: dict) -> dict:
    event_pk = await connection.fetchval(
        "INSERT INTO partner_events (partner_id, event_id, type, payload, status, points, "
        "shortfall, received_at) VALUES (1, $1, $2, $3, 'accrued', 10, 0, now()) "
        "ON CONFLICT (partner_id, event_id) DO NOTHING RETURNING id",
        event["id"],
        event["type"],
        json.dumps(event),
    )
    if event_pk is None:
        return {"id": event["id"], "status": "duplicate", "points": 0}
    wallet = await connection.fetchrow(
        "UPDATE wallets SET balance = balance + 10, version = version + 1, updated_at = now() "
        "WHERE currency = 'POINTS' AND customer_id = "
        "(SELECT id FROM customers WHERE external_id = $1) "
        "RETURNING id, customer_id, balance, version",
        event["customer_id"],
    )
    await connection.execute(
        "INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, delta, "
        "held_delta, balance_after, held_after, reason, source_type, source_id, created_at) "
        "VALUES ($1, $2, 'POINTS', $3, 'accrual', 10, 0, $4, 0, 'Bench offer', "
        "'partner_event', $5, now())",
        wallet["id"],
        wallet["customer_id"],
        wallet["version"],
        wallet["balance"],
        event["id"],
    )
    await connection.execute(
        "UPDATE offer_activations SET completions = completions + 1 "
        "WHERE offer_id = 1 AND customer_id = $1",
        wallet["customer_id"],
    )
    return {"id": event["id"], "status": "accrued", "points": 10}


async def events(request: Request) -> JSONResponse:
    body = await request.body()
    try:
        verify(SECRET, request.headers, body, now=time.time(), window_seconds=300)
    except SignatureError as error:
        return JSONResponse({"error": {"code": error.code}}, status_code=401)
    data = json.loads(body)
    batch = data.get("events", [data])
    # Wallets in one order across requests, or concurrent batches deadlock.
    ordered = sorted(range(len(batch)), key=lambda i: batch[i]["customer_id"])
    answers: dict[int, dict] = {}
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        for index in ordered:
            answers[index] = await post_one(connection, batch[index])
    results = [answers[index] for index in range(len(batch))]
    return JSONResponse({"results": results} if "events" in data else results[0])


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/api/partners/{partner_code}/events", events, methods=["POST"]),
        Route("/healthz", healthz),
    ],
    lifespan=lifespan,
)
