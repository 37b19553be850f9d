"""The home benchmark's baseline: a minimal hand-written Starlette endpoint.

`GET /home` verifies the same dev token, reads the same rows with plain SQL on the raw
driver (asyncpg), every request, no cache, and returns the
same JSON as the GraphQL `home` query in bench/home.py. bench/home.py serves it with 2
workers, as `loyalty-bff serve --workers 2` serves the service (bff/kernel/serving.py); alone:

    BENCH_DB=postgresql://... BENCH_DATA_DIR=... uvicorn home_baseline:app
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from graphql import parse
from home import HOME
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff.graphql.cost import query_cost
from bff.graphql.schema import build_schema
from bff.kernel.config import Settings
from bff.kernel.global_ids import encode_id

DB = os.environ.get("BENCH_DB", "")
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "var"))
ISSUER, AUDIENCE = "loyalty-bff-dev", "loyalty-app"
OFFERS, CATEGORIES, PRODUCTS = 10, 5, 6
# The service reports each answer's cost; the baseline answers the same bytes, worked out
# once here.
COST = {
    "requested": query_cost(build_schema()._schema, parse(HOME), None, None),
    "limit": Settings().max_query_cost,
}


class Rows:
    """``fetch(sql, *args)`` on an asyncpg pool, the SQL written with ``?`` placeholders."""

    expiring_sql = ""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.statements: dict[str, str] = {}

    def _numbered(self, sql: str) -> str:
        if sql not in self.statements:
            parts = sql.split("?")
            numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
            self.statements[sql] = numbered
        return self.statements[sql]

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return await self.pool.fetch(self._numbered(sql), *args)  # type: ignore[no-any-return]


def marks(values: Sequence[Any]) -> str:
    return "(" + ",".join("?" * len(values)) + ")"


def now_param() -> datetime:
    return datetime.now(UTC)


async def customer_part(rows: Rows, customer_id: int, subject: str) -> dict[str, Any]:
    currencies = [r[0] for r in await rows.fetch(CURRENCIES)]
    wallets = {r[1]: r for r in await rows.fetch(WALLETS, customer_id)}
    pending = {r[0]: int(r[1]) for r in await rows.fetch(PENDING, customer_id)}
    wallet_ids = [r[0] for r in wallets.values()]
    expiring = {}
    if wallet_ids:
        found = await rows.fetch(rows.expiring_sql.format(ids=marks(wallet_ids)), *wallet_ids)
        expiring = {r[0]: int(r[1]) for r in found}
    standing = await rows.fetch(STANDING, customer_id)
    levels = await rows.fetch(LEVELS)
    return {
        "wallets": [wallet_json(code, wallets.get(code), pending, expiring) for code in currencies],
        "level": level_json(standing[0] if standing else None, levels),
    }


def wallet_json(code: str, row: Any, pending: dict[str, int], expiring: dict[int, int]):
    balance, held = (int(row[2]), int(row[3])) if row else (0, 0)
    soon = expiring.get(row[0]) if row else None
    return {
        "currency": code,
        "balance": balance,
        "available": balance - held,
        "pending": pending.get(code, 0),
        "expiringSoon": {"amount": soon} if soon is not None else None,
    }


def level_json(standing: Any, levels: Sequence[Any]) -> dict[str, Any]:
    ladder = sorted(levels, key=lambda level: level[1])
    code, completed = (standing[0], int(standing[1])) if standing else (ladder[0][0], 0)
    current = next(level for level in ladder if level[0] == code)
    above = [level for level in ladder if level[1] > current[1]]
    after = above[0] if above else None
    return {
        "current": {"code": current[0], "name": current[2]},
        "next": {"code": after[0], "name": after[2]} if after else None,
        "progress": {
            "completedOrders": completed,
            "toNext": max(0, after[3] - completed) if after else None,
        },
    }


async def offers_part(rows: Rows, customer_id: int) -> dict[str, Any]:
    offers = await rows.fetch(OFFERS_PAGE, now_param(), now_param(), OFFERS)
    ids = [r[0] for r in offers]
    activations = {}
    if ids:
        found = await rows.fetch(ACTIVATIONS.format(ids=marks(ids)), customer_id, *ids)
        activations = {r[0]: {"active": bool(r[1]), "completions": r[2]} for r in found}
    edges = [
        {
            "node": {
                "id": encode_id("Offer", r[0]),
                "title": r[1],
                "partner": {"name": r[2]},
                "activation": activations.get(r[0]),
            }
        }
        for r in offers
    ]
    return {"edges": edges}


async def marketplace_part(rows: Rows, city: str | None) -> dict[str, Any]:
    categories = (await rows.fetch(CATEGORIES_ALL))[:CATEGORIES]
    ids = [r[0] for r in categories]
    products = await rows.fetch(PRODUCTS_PAGE.format(ids=marks(ids)), *ids, PRODUCTS)
    product_ids = [r[0] for r in products]
    stops: dict[int, list[Any]] = defaultdict(list)
    if product_ids:
        query = STOPS.format(ids=marks(product_ids))
        for stop in await rows.fetch(query, *product_ids, now_param()):
            stops[stop[0]].append(stop)
    shelf: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for product_id, category_id, title in products:
        reason = stop_reason(stops[product_id], city)
        node = {
            "id": encode_id("MarketplaceProduct", product_id),
            "title": title,
            "available": reason is None,
            "stopNote": reason,
        }
        shelf[category_id].append({"node": node})
    edges = [
        {
            "node": {
                "id": encode_id("MarketplaceCategory", r[0]),
                "title": r[1],
                "price": {"amount": int(r[2]), "currency": r[3]},
                "products": {"edges": shelf[r[0]]},
            }
        }
        for r in categories
    ]
    return {"city": city, "categories": {"edges": edges}}


def stop_reason(stops: list[Any], city: str | None) -> str | None:
    for _, scope, reason in stops:
        if scope == "*" or (city is not None and scope.casefold() == city.casefold()):
            return str(reason)
    return None


async def flags_part(rows: Rows, subject: str, city: str | None) -> list[dict[str, Any]]:
    flags = []
    for key, enabled, rollout, cities in await rows.fetch(FLAGS):
        listed = json.loads(cities) if isinstance(cities, str) else cities
        on = bool(enabled) and (not listed or city in listed)
        if on and rollout < 100:
            digest = hashlib.sha256(f"{key}:{subject}".encode()).digest()
            on = int.from_bytes(digest[:8], "big") % 100 < rollout
        flags.append({"key": key, "enabled": on})
    return flags


# As the service does (bff/kernel/auth.py): a checked token is trusted again until it expires.
VERIFIED: dict[str, tuple[str, float]] = {}


def subject_of(request: Request) -> str:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    known = VERIFIED.get(token)
    if known is not None and time.time() < known[1]:
        return known[0]
    claims = jwt.decode(
        token, request.app.state.public_key, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE
    )
    if len(VERIFIED) > 20_000:
        VERIFIED.clear()
    VERIFIED[token] = (claims["sub"], min(float(claims["exp"]), time.time() + 300))
    return str(claims["sub"])


async def home(request: Request) -> Response:
    try:
        subject = subject_of(request)
    except jwt.InvalidTokenError:
        return JSONResponse({"error": "unauthenticated"}, status_code=401)
    rows: Rows = request.app.state.rows
    found = await rows.fetch(CUSTOMER, subject)
    if not found:
        return JSONResponse({"error": "unknown customer"}, status_code=404)
    customer_id, city = found[0]
    body = await customer_part(rows, customer_id, subject)
    body["offers"] = await offers_part(rows, customer_id)
    body["marketplace"] = await marketplace_part(rows, city)
    body["featureFlags"] = await flags_part(rows, subject, city)
    return JSONResponse({"data": {"home": body}, "extensions": {"cost": COST}})


CUSTOMER = "SELECT id, city FROM customers WHERE external_id = ?"
CURRENCIES = "SELECT code FROM currencies WHERE enabled ORDER BY code"
WALLETS = "SELECT id, currency, balance, held FROM wallets WHERE customer_id = ?"
PENDING = (
    "SELECT currency, sum(amount) FROM pending_accruals WHERE customer_id = ? "
    "AND status = 'pending' GROUP BY currency"
)
EXPIRING = (
    "SELECT l.wallet_id, sum(l.remaining) FROM lots l JOIN (SELECT wallet_id, min(expires_at) "
    "AS at FROM lots WHERE wallet_id IN {ids} AND remaining > 0 AND expires_at IS NOT NULL "
    "GROUP BY wallet_id) s ON s.wallet_id = l.wallet_id WHERE l.remaining > 0 "
    "AND l.expires_at >= s.at AND l.expires_at < " + "{one_day}" + " GROUP BY l.wallet_id"
)
STANDING = "SELECT level_code, completed_orders FROM customer_levels WHERE customer_id = ?"
LEVELS = "SELECT code, rank, name_en, threshold FROM levels"
OFFERS_PAGE = (
    "SELECT o.id, o.title, p.name FROM offers o JOIN partners p ON p.id = o.partner_id "
    "WHERE p.active AND o.active AND o.valid_from <= ? AND (o.valid_to IS NULL OR "
    "o.valid_to > ?) AND (o.budget IS NULL OR o.budget_spent < o.budget) "
    "ORDER BY o.id LIMIT ?"
)
ACTIVATIONS = (
    "SELECT offer_id, active, completions FROM offer_activations "
    "WHERE customer_id = ? AND offer_id IN {ids}"
)
CATEGORIES_ALL = (
    "SELECT id, title, price, currency FROM marketplace_categories WHERE active "
    "ORDER BY sort_order, id"
)
PRODUCTS_PAGE = (
    "SELECT id, category_id, title FROM (SELECT id, category_id, title, row_number() OVER "
    "(PARTITION BY category_id ORDER BY id) AS position FROM marketplace_products "
    "WHERE category_id IN {ids} AND active) ranked WHERE position <= ? ORDER BY category_id, id"
)
STOPS = (
    "SELECT product_id, scope, reason FROM marketplace_stop_list WHERE product_id IN {ids} "
    "AND (until IS NULL OR until > ?)"
)
FLAGS = 'SELECT "key", enabled, rollout_percent, cities FROM feature_flags ORDER BY "key"'


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    import asyncpg

    key = load_pem_private_key((DATA_DIR / "dev-jwt-key.pem").read_bytes(), password=None)
    app.state.public_key = key.public_key()
    pool = await asyncpg.create_pool(DB, min_size=10, max_size=10)
    app.state.rows = Rows(pool)
    app.state.rows.expiring_sql = EXPIRING.replace("{one_day}", "s.at + interval '1 day'")
    yield
    await pool.close()


app = Starlette(routes=[Route("/home", home)], lifespan=lifespan)
