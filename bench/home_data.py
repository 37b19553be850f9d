"""The home benchmark's dataset, in plain SQL.

100,000 customers in five cities, each with a POINTS and a COINS wallet, a level, an
accrual entry per wallet and an expiring lot ("history"); 20 partners with 10 offers each,
a fifth of the customers with an activated offer; 5 categories of 10 products, some
stop-listed in one city or everywhere; 4 feature flags.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CITIES = ("Moscow", "Kazan", "Perm", "Tver", "Omsk")
PARTNERS = 20
OFFERS_PER_PARTNER = 10
CATEGORIES = 5
PRODUCTS_PER_CATEGORY = 10


_SQL = {
    "now": "now()",
    "days": "now() + make_interval(days => ({})::int)",
    "true": "true",
    "false": "false",
}


def _numbers(count: str) -> str:
    return f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {count}) "


def statements(customers: int) -> list[str]:
    s = _SQL
    now, yes = s["now"], s["true"]
    city = "CASE n % 5 " + " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(CITIES)) + " END"
    level = (
        "CASE n % 4 WHEN 0 THEN 'BRONZE' WHEN 1 THEN 'SILVER' WHEN 2 THEN 'GOLD' "
        "ELSE 'PLATINUM' END"
    )
    offers = PARTNERS * OFFERS_PER_PARTNER
    return [
        _numbers(str(customers)) + "INSERT INTO customers (external_id, city, created_at) "
        f"SELECT 'bench-' || n, {city}, {now} FROM seq",
        "INSERT INTO wallets (customer_id, currency, balance, held, version, created_at, "
        f"updated_at) SELECT id, 'POINTS', (id * 37) % 5000 + 1, 0, 1, {now}, {now} FROM customers",
        "INSERT INTO wallets (customer_id, currency, balance, held, version, created_at, "
        f"updated_at) SELECT id, 'COINS', (id * 13) % 900 + 1, 0, 1, {now}, {now} FROM customers",
        "INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, delta, "
        "held_delta, balance_after, held_after, reason, source_type, source_id, created_at) "
        "SELECT id, customer_id, currency, 1, 'accrual', balance, 0, balance, 0, "
        f"'Welcome points', 'bench', 'seed', {now} FROM wallets",
        "INSERT INTO lots (wallet_id, entry_id, amount, remaining, expires_at, created_at) "
        f"SELECT w.id, e.id, w.balance, w.balance, {s['days'].format('w.customer_id % 60 + 1')}, "
        f"{now} FROM wallets w JOIN ledger_entries e ON e.wallet_id = w.id "
        "WHERE w.currency = 'POINTS'",
        _numbers(str(customers))
        + "INSERT INTO customer_levels (customer_id, level_code, completed_orders, level_since, "
        f"version, updated_at) SELECT n, {level}, (n % 4) * 6, {now}, 0, {now} FROM seq",
        _numbers(str(PARTNERS))
        + "INSERT INTO partners (code, name, category, logo_url, description, "
        "secret_encrypted, active, created_at, updated_at) SELECT 'partner-' || n, "
        "'Partner ' || n, 'shops', 'https://cdn.example/p' || n || '.png', '', 'x', "
        f"{yes}, {now}, {now} FROM seq",
        _numbers(str(offers))
        + "INSERT INTO offers (partner_id, title, description, terms, currency, reward_kind, "
        "reward_points, valid_from, budget_spent, active, created_at, updated_at) SELECT "
        f"(n - 1) % {PARTNERS} + 1, 'Offer ' || n, '', '', 'POINTS', 'fixed', n * 5, "
        f"{s['days'].format('-1')}, 0, {yes}, {now}, {now} FROM seq",
        "INSERT INTO offer_activations (offer_id, customer_id, active, completions, "
        f"activated_at) SELECT customer_id % 10 + 1, customer_id, {yes}, customer_id % 3, "
        f"{now} FROM customer_levels WHERE customer_id % 5 = 0",
        _numbers(str(CATEGORIES))
        + "INSERT INTO marketplace_categories (title, image_url, currency, price, sort_order, "
        f"active, created_at, updated_at) SELECT 'Category ' || n, NULL, 'COINS', n * 100, n, "
        f"{yes}, {now}, {now} FROM seq",
        _numbers(str(CATEGORIES * PRODUCTS_PER_CATEGORY))
        + "INSERT INTO marketplace_products (category_id, title, description, image_url, "
        f"active, created_at, updated_at) SELECT (n - 1) / {PRODUCTS_PER_CATEGORY} + 1, "
        f"'Gift ' || n, '', NULL, {yes}, {now}, {now} FROM seq",
        "INSERT INTO marketplace_stop_list (product_id, scope, reason, created_by, created_at) "
        f"SELECT id, CASE WHEN id % 2 = 0 THEN 'Kazan' ELSE '*' END, 'Sold out', 'bench', "
        f"{now} FROM marketplace_products WHERE id % 7 = 0",
        "INSERT INTO feature_flags (key, description, enabled, rollout_percent, cities, "
        f"updated_at) VALUES ('new_home', '', {yes}, 100, NULL, {now}), "
        f"('coin_shop', '', {yes}, 50, NULL, {now}), "
        f"('kazan_pilot', '', {yes}, 100, '[\"Kazan\"]', {now}), "
        f"('dark_launch', '', {s['false']}, 100, NULL, {now})",
    ]


async def load(engine: AsyncEngine, customers: int) -> None:
    async with engine.begin() as connection:
        for statement in statements(customers):
            await connection.execute(text(statement))
        await connection.execute(text("ANALYZE"))
