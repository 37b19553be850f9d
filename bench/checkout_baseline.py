"""A hand-written checkout API on raw asyncpg: the floor for the checkout benchmark.

It checks signatures like the service, reads what the service reads (customer, level,
spending rule, wallet, soonest expiry, accrual rules) and does the same writes (an
idempotency record, the wallet, a hold, its ledger entry and payment; on capture the
wallet, the entry, the lots taken and the hold), without the service's rules and layers.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bff.kernel.signing import SignatureError, verify

SECRET = os.environ.get("BFF_ORDERS_HMAC_SECRET", "bench-orders-secret")
URL = os.environ.get("BENCH_ASYNCPG_URL", "postgresql://bff:bff@127.0.0.1/bff_bench")

CUSTOMER = """
SELECT c.id, coalesce(cl.level_code, (SELECT code FROM levels ORDER BY rank LIMIT 1)),
       w.id, w.balance - w.held
FROM customers c
LEFT JOIN customer_levels cl ON cl.customer_id = c.id
LEFT JOIN wallets w ON w.customer_id = c.id AND w.currency = 'POINTS'
WHERE c.external_id = $1
"""
RULE = """
SELECT kopecks_per_point, max_share_bp, min_money_kopecks, level_shares FROM spending_rules
WHERE currency = 'POINTS' AND active AND (brand = $1 OR brand IS NULL)
ORDER BY brand NULLS LAST LIMIT 1
"""
SOONEST = """
SELECT min(expires_at), sum(remaining)::bigint FROM lots
WHERE wallet_id = $1 AND remaining > 0 AND expires_at < (
    SELECT min(expires_at) FROM lots WHERE wallet_id = $1 AND remaining > 0) + interval '1 day'
"""
ACCRUAL_RULES = """
SELECT currency, percent_bp, title FROM accrual_rules
WHERE active AND kind = 'percent' AND (brand = $1 OR brand IS NULL)
  AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now())
"""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(URL, min_size=4, max_size=10)
    yield
    await app.state.pool.close()


async def signed(request: Request) -> dict[str, Any] | JSONResponse:
    body = await request.body()
    try:
        verify(SECRET, request.headers, body, now=time.time(), window_seconds=300)
    except SignatureError as error:
        return JSONResponse({"error": {"code": error.code}}, status_code=401)
    data: dict[str, Any] = json.loads(body) if body.strip() else {}
    return data


def allowed(rule: asyncpg.Record, level: str, available: int, amount: int) -> int:
    shares = json.loads(rule["level_shares"]) if rule["level_shares"] else {}
    share = shares.get(level, rule["max_share_bp"])
    money_part = max(0, min(amount * share // 10_000, amount - rule["min_money_kopecks"]))
    return max(0, min(available, money_part // rule["kopecks_per_point"]))


async def quote(request: Request) -> JSONResponse:
    data = await signed(request)
    if isinstance(data, JSONResponse):
        return data
    order = data["order"]
    async with request.app.state.pool.acquire() as connection:
        _customer_id, level, wallet_id, available = await connection.fetchrow(
            CUSTOMER, data["customer_id"]
        )
        rule = await connection.fetchrow(RULE, data["brand"])
        at, expiring = await connection.fetchrow(SOONEST, wallet_id)
        rules = await connection.fetch(ACCRUAL_RULES, data["brand"])
    points = allowed(rule, level, available, order["amount"])
    return JSONResponse(
        {
            "order_id": order["id"],
            "customer_id": data["customer_id"],
            "available": available,
            "spendable": {"points": points, "value": points * rule["kopecks_per_point"]},
            "accruals": [
                {"currency": r["currency"], "amount": order["amount"] * r["percent_bp"] // 10**6}
                for r in rules
            ],
            "soonest_expiry": {"amount": expiring, "at": at.isoformat()} if at else None,
        }
    )


async def hold(request: Request) -> JSONResponse:
    data = await signed(request)
    if isinstance(data, JSONResponse):
        return data
    order, points = data["order"], data["points"]
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        customer_id, level, wallet_id, available = await connection.fetchrow(
            CUSTOMER, data["customer_id"]
        )
        rule = await connection.fetchrow(RULE, data["brand"])
        if points > allowed(rule, level, available, order["amount"]):
            return JSONResponse({"error": {"code": "OVER_SPENDABLE"}}, status_code=422)
        record_id = await connection.fetchval(
            "INSERT INTO idempotency_records (scope, key, request_hash, created_at) "
            "VALUES ('checkout', $1, $2, now()) ON CONFLICT (scope, key) DO NOTHING "
            "RETURNING id",
            data["idempotency_key"],
            digest,
        )
        wallet = await connection.fetchrow(
            "UPDATE wallets SET held = held + $2, version = version + 1, updated_at = now() "
            "WHERE id = $1 AND balance - held >= $2 RETURNING balance, held, version",
            wallet_id,
            points,
        )
        hold_id, expires_at = await connection.fetchrow(
            "INSERT INTO holds (wallet_id, customer_id, currency, amount, captured_amount, "
            "refunded_amount, status, expires_at, source_type, source_id, created_at) VALUES "
            "($1, $2, 'POINTS', $3, 0, 0, 'active', now() + interval '1 day', 'checkout', $4, "
            "now()) RETURNING id, expires_at",
            wallet_id,
            customer_id,
            points,
            f"{data['brand']}:{order['id']}",
        )
        await connection.execute(
            "INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, "
            "delta, held_delta, balance_after, held_after, reason, source_type, source_id, "
            "hold_id, idempotency_record_id, created_at) VALUES ($1, $2, 'POINTS', $3, "
            "'hold', 0, $4, $5, $6, $7, 'checkout', $8, $9, $10, now())",
            wallet_id,
            customer_id,
            wallet["version"],
            points,
            wallet["balance"],
            wallet["held"],
            f"Paying order {order['id']}",
            f"{data['brand']}:{order['id']}",
            hold_id,
            record_id,
        )
        await connection.execute(
            "INSERT INTO checkout_payments (hold_id, customer_id, brand, order_id, points, "
            "value_kopecks, created_at) VALUES ($1, $2, $3, $4, $5, $6, now())",
            hold_id,
            customer_id,
            data["brand"],
            order["id"],
            points,
            points * rule["kopecks_per_point"],
        )
    answer = {"hold_id": hold_id, "order_id": order["id"], "points": points}
    return JSONResponse(answer | {"expires_at": expires_at.isoformat()}, status_code=201)


async def capture(request: Request) -> JSONResponse:
    data = await signed(request)
    if isinstance(data, JSONResponse):
        return data
    hold_id = int(request.path_params["hold_id"])
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        order_id, value = await connection.fetchrow(
            "SELECT order_id, value_kopecks FROM checkout_payments WHERE hold_id = $1", hold_id
        )
        found = await connection.fetchrow(
            "SELECT h.amount, h.wallet_id, h.customer_id, h.source_id FROM holds h "
            "JOIN wallets w ON w.id = h.wallet_id WHERE h.id = $1 AND h.status = 'active' "
            "FOR UPDATE",
            hold_id,
        )
        if found is None:
            return JSONResponse({"error": {"code": "HOLD_NOT_ACTIVE"}}, status_code=422)
        amount, wallet_id = found["amount"], found["wallet_id"]
        wallet = await connection.fetchrow(
            "UPDATE wallets SET balance = balance - $2, held = held - $2, "
            "version = version + 1, updated_at = now() WHERE id = $1 "
            "RETURNING balance, held, version",
            wallet_id,
            amount,
        )
        entry_id = await connection.fetchval(
            "INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, "
            "delta, held_delta, balance_after, held_after, reason, source_type, source_id, "
            "hold_id, created_at) VALUES ($1, $2, 'POINTS', $3, 'capture', $4, $4, $5, $6, "
            "$7, 'checkout', $8, $9, now()) RETURNING id",
            wallet_id,
            found["customer_id"],
            wallet["version"],
            -amount,
            wallet["balance"],
            wallet["held"],
            f"Order {order_id}",
            found["source_id"],
            hold_id,
        )
        await _take_from_lots(connection, wallet_id, amount, entry_id)
        await connection.execute(
            "UPDATE holds SET status = 'captured', captured_amount = amount, "
            "resolved_at = now() WHERE id = $1",
            hold_id,
        )
    return JSONResponse(
        {"hold_id": hold_id, "status": "captured", "captured_points": amount, "value": value}
    )


async def _take_from_lots(
    connection: asyncpg.Connection, wallet_id: int, amount: int, entry_id: int
) -> None:
    lots = await connection.fetch(
        "SELECT id, remaining FROM lots WHERE wallet_id = $1 AND remaining > 0 "
        "ORDER BY expires_at IS NULL, expires_at, id",
        wallet_id,
    )
    for lot in lots:
        taken = min(amount, lot["remaining"])
        await connection.execute(
            "UPDATE lots SET remaining = remaining - $2 WHERE id = $1", lot["id"], taken
        )
        await connection.execute(
            "INSERT INTO lot_takes (entry_id, lot_id, amount, returned) VALUES ($1, $2, $3, 0)",
            entry_id,
            lot["id"],
            taken,
        )
        amount -= taken
        if amount == 0:
            return


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/api/checkout/quote", quote, methods=["POST"]),
        Route("/api/checkout/holds", hold, methods=["POST"]),
        Route("/api/checkout/holds/{hold_id}/capture", capture, methods=["POST"]),
        Route("/healthz", healthz),
    ],
    lifespan=lifespan,
)
