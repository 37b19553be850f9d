"""Many accruals in one statement (PostgreSQL): the pending queue posts its batches here.

Every accrual still gets its own entry with the wallet's next version and the running
balance after it; the wallet row is written once with the batch's total (created with it
when missing). Existing wallets are locked in id order first, so two workers posting
overlapping batches cannot deadlock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bff.ledger.reasons import Reason

_LOCK_WALLETS = text("""
SELECT id FROM wallets
WHERE currency = CAST(:currency AS varchar) AND customer_id = ANY(CAST(:customer_ids AS bigint[]))
ORDER BY id FOR UPDATE
""")

_POST = text("""
WITH input AS (
    SELECT * FROM unnest(
        CAST(:customer_ids AS bigint[]), CAST(:amounts AS bigint[]),
        CAST(:reasons AS varchar[]), CAST(:source_types AS varchar[]),
        CAST(:source_ids AS varchar[]), CAST(:expires AS timestamptz[]),
        CAST(:record_ids AS bigint[]), CAST(:reason_codes AS varchar[]),
        CAST(:reason_params AS text[])
    ) WITH ORDINALITY AS i(customer_id, amount, reason, source_type, source_id, expires_at,
        idempotency_record_id, reason_code, reason_params, ord)
),
totals AS (
    SELECT customer_id, sum(amount) AS total, count(*) AS n FROM input GROUP BY customer_id
),
enabled AS (
    SELECT 1 FROM currencies WHERE code = CAST(:currency AS varchar) AND enabled
),
updated AS (
    UPDATE wallets AS w
    SET balance = w.balance + t.total, version = w.version + t.n,
        updated_at = CAST(:now AS timestamptz)
    FROM totals AS t
    WHERE w.customer_id = t.customer_id AND w.currency = CAST(:currency AS varchar)
      AND EXISTS (SELECT 1 FROM enabled)
    RETURNING w.id, w.customer_id, w.balance, w.held, w.version
),
created AS (
    -- A missing wallet is created holding the batch's total: one write, not an empty
    -- row and then an update. New wallets go in customer order, so concurrent batches
    -- cannot wait on each other in a circle; one created meanwhile is updated instead.
    INSERT INTO wallets AS w (customer_id, currency, balance, held, version, created_at,
        updated_at)
    SELECT t.customer_id, CAST(:currency AS varchar), t.total, 0, t.n,
        CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM totals AS t
    WHERE EXISTS (SELECT 1 FROM enabled)
      AND NOT EXISTS (SELECT 1 FROM updated AS u WHERE u.customer_id = t.customer_id)
    ORDER BY t.customer_id
    ON CONFLICT (customer_id, currency) DO UPDATE
    SET balance = w.balance + EXCLUDED.balance, version = w.version + EXCLUDED.version,
        updated_at = EXCLUDED.updated_at
    RETURNING w.id, w.customer_id, w.balance, w.held, w.version
),
changed AS (
    SELECT * FROM updated UNION ALL SELECT * FROM created
),
numbered AS (
    SELECT i.*, c.id AS wallet_id, c.held,
        c.version - t.n
            + row_number() OVER (PARTITION BY i.customer_id ORDER BY i.ord) AS version,
        c.balance - t.total
            + sum(i.amount) OVER (PARTITION BY i.customer_id ORDER BY i.ord) AS balance_after
    FROM input AS i
    JOIN changed AS c ON c.customer_id = i.customer_id
    JOIN totals AS t ON t.customer_id = i.customer_id
),
entries AS (
    INSERT INTO ledger_entries (wallet_id, customer_id, currency, version, kind, delta,
        held_delta, balance_after, held_after, reason, reason_code, reason_params, source_type,
        source_id, idempotency_record_id, created_at)
    SELECT wallet_id, customer_id, CAST(:currency AS varchar), version, 'accrual', amount, 0,
        balance_after, held, reason, reason_code, CAST(reason_params AS json), source_type,
        source_id, idempotency_record_id, CAST(:now AS timestamptz)
    FROM numbered
    RETURNING id, wallet_id, version
),
lots AS (
    -- A credit first covers a deficit; only what lands above zero opens a lot.
    INSERT INTO lots (entry_id, wallet_id, amount, remaining, expires_at, created_at)
    SELECT e.id, e.wallet_id, x.amount, x.amount, n.expires_at, CAST(:now AS timestamptz)
    FROM entries AS e
    JOIN numbered AS n ON n.wallet_id = e.wallet_id AND n.version = e.version
    CROSS JOIN LATERAL (
        SELECT greatest(n.balance_after, 0) - greatest(n.balance_after - n.amount, 0) AS amount
    ) AS x
    WHERE x.amount > 0
)
SELECT n.ord, e.id
FROM entries AS e JOIN numbered AS n ON n.wallet_id = e.wallet_id AND n.version = e.version
ORDER BY n.ord
""")


@dataclass(frozen=True, slots=True)
class Accrual:
    customer_id: int
    currency: str
    amount: int
    reason: str | Reason
    source_type: str
    source_id: str | None
    expires_at: datetime | None
    idempotency_record_id: int | None = None  # the key that asked for it, if any


async def post_accruals(
    session: AsyncSession,
    currency: str,
    items: Sequence[Accrual],
    now: datetime,
    wallets_locked: bool = False,
) -> list[int] | None:
    """Entry ids in the order of ``items``; None when the currency is not enabled.
    ``wallets_locked``: the caller created and locked the wallets already."""
    customer_ids = [item.customer_id for item in items]
    params: dict[str, Any] = {"currency": currency, "now": now, "customer_ids": customer_ids}
    connection = await session.connection()
    if not wallets_locked:  # existing wallets in id order; the post creates the others
        await connection.execute(_LOCK_WALLETS, params)
    rows = (
        await connection.execute(
            _POST,
            params
            | {
                "amounts": [item.amount for item in items],
                "reasons": [_text(item.reason)[:500] for item in items],
                "reason_codes": [_code(item.reason) for item in items],
                "reason_params": [_params(item.reason) for item in items],
                "source_types": [item.source_type for item in items],
                "source_ids": [item.source_id for item in items],
                "expires": [item.expires_at for item in items],
                "record_ids": [item.idempotency_record_id for item in items],
            },
        )
    ).all()
    if not rows:
        return None
    if len(rows) != len(items):
        raise RuntimeError(f"bulk accrual posted {len(rows)} of {len(items)} entries")
    return [entry_id for _, entry_id in rows]


def _text(reason: str | Reason) -> str:
    return reason.text if isinstance(reason, Reason) else reason


def _code(reason: str | Reason) -> str | None:
    return reason.code if isinstance(reason, Reason) else None


def _params(reason: str | Reason) -> str | None:
    return json.dumps(dict(reason.params)) if isinstance(reason, Reason) else None
