"""Every SQL statement about orders, accrual rules and the pending queue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.earning.models import (
    AccrualRule,
    AccrualRuleChange,
    CashbackCap,
    CashbackChange,
    Order,
    OrderEvent,
    OrderStatus,
    PendingAccrual,
    PendingStatus,
    RuleKind,
)
from bff.kernel.driver import driver_reads, driver_select


class EarningRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # events and orders

    async def claim_event(
        self, event_id: str, event_type: str, payload: dict[str, Any], now: datetime
    ) -> int | None:
        """Store an event once; None when its id was seen before."""
        statement = (
            pg_insert(OrderEvent)
            .values(
                event_id=event_id, type=event_type, payload=payload, outcome="", received_at=now
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(OrderEvent.id)
        )
        event_pk: int | None = await self.session.scalar(statement)
        return event_pk

    async def set_event_outcome(self, event_pk: int, outcome: str) -> None:
        await self.session.execute(
            update(OrderEvent).where(OrderEvent.id == event_pk).values(outcome=outcome)
        )

    async def event(self, event_id: str) -> OrderEvent | None:
        result = await self.session.scalars(
            select(OrderEvent).where(OrderEvent.event_id == event_id)
        )
        return result.first()

    async def insert_order(self, values: dict[str, Any]) -> int | None:
        statement = (
            pg_insert(Order)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["brand", "external_id"])
            .returning(Order.id)
        )
        order_id: int | None = await self.session.scalar(statement)
        return order_id

    async def lock_order(self, brand: str, external_id: str) -> Order | None:
        result = await self.session.scalars(
            select(Order)
            .where(Order.brand == brand, Order.external_id == external_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.first()

    async def save(self, *rows: Any) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()

    # rules

    async def rules_valid_at(self, brand: str, at: datetime) -> Sequence[AccrualRule]:
        if (driver := await driver_reads(self.session)) is not None:
            return await driver.models(AccrualRule, _DRIVER_RULES_VALID_AT, brand, at)
        result = await self.session.scalars(
            select(AccrualRule)
            .where(
                AccrualRule.active.is_(True),
                AccrualRule.brand.is_(None) | (AccrualRule.brand == brand),
                AccrualRule.valid_from <= at,
                AccrualRule.valid_to.is_(None) | (AccrualRule.valid_to > at),
            )
            .order_by(AccrualRule.id)
        )
        return result.all()

    async def cashback_cap(self, currency: str, brand: str) -> int | None:
        """The brand's maximum, else the currency's for every brand; None: no maximum."""
        if (driver := await driver_reads(self.session)) is not None:
            rows = await driver.fetch(_DRIVER_CASHBACK_CAP, currency, brand)
            return int(rows[0][0]) if rows else None
        result = await self.session.execute(
            select(CashbackCap.max_bp)
            .where(
                CashbackCap.currency == currency,
                CashbackCap.brand.is_(None) | (CashbackCap.brand == brand),
            )
            .order_by(CashbackCap.brand.is_(None))
            .limit(1)
        )
        return result.scalar()

    async def set_cashback_cap(
        self, currency: str, brand: str | None, max_bp: int, actor: str, now: datetime
    ) -> CashbackCap:
        statement = (
            pg_insert(CashbackCap)
            .values(currency=currency, brand=brand, max_bp=max_bp, updated_by=actor, updated_at=now)
            .on_conflict_do_update(
                index_elements=["currency", "brand"],
                set_={"max_bp": max_bp, "updated_by": actor, "updated_at": now},
            )
            .returning(CashbackCap)
        )
        return (
            await self.session.scalars(statement, execution_options={"populate_existing": True})
        ).one()

    async def percent_brands(self, currency: str, at: datetime) -> list[str]:
        """Brands with a percentage rule taking a bonus now; "*" stands for rules of
        every brand, when there is no branded one."""
        result = await self.session.scalars(
            select(AccrualRule.brand)
            .where(
                AccrualRule.active.is_(True),
                AccrualRule.kind == RuleKind.PERCENT,
                AccrualRule.level_bonus.is_(True),
                AccrualRule.currency == currency,
                AccrualRule.valid_from <= at,
                AccrualRule.valid_to.is_(None) | (AccrualRule.valid_to > at),
            )
            .distinct()
        )
        brands = sorted({brand or "*" for brand in result.all()})
        branded = [brand for brand in brands if brand != "*"]
        return branded or brands

    async def last_cashback(self, customer_id: int, brand: str) -> int | None:
        return await self.session.scalar(
            select(CashbackChange.to_bp)
            .where(CashbackChange.customer_id == customer_id, CashbackChange.brand == brand)
            .order_by(CashbackChange.id.desc())
            .limit(1)
        )

    async def add_cashback_change(self, change: CashbackChange) -> None:
        self.session.add(change)
        await self.session.flush()

    async def cashback_changes_page(
        self,
        reasons: Sequence[str],
        since: datetime | None,
        until: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> Sequence[CashbackChange]:
        statement = select(CashbackChange).order_by(CashbackChange.id).limit(limit)
        if reasons:
            statement = statement.where(CashbackChange.reason.in_(list(reasons)))
        if since is not None:
            statement = statement.where(CashbackChange.created_at >= since)
        if until is not None:
            statement = statement.where(CashbackChange.created_at < until)
        if after_id is not None:
            statement = statement.where(CashbackChange.id > after_id)
        return (await self.session.scalars(statement)).all()

    async def cashback_caps(self) -> Sequence[CashbackCap]:
        result = await self.session.scalars(
            select(CashbackCap).order_by(CashbackCap.currency, CashbackCap.brand.nulls_first())
        )
        return result.all()

    async def rules(self) -> Sequence[AccrualRule]:
        return (await self.session.scalars(select(AccrualRule).order_by(AccrualRule.id))).all()

    async def rule(self, rule_id: int) -> AccrualRule | None:
        return await self.session.get(AccrualRule, rule_id)

    async def rule_by_code(self, code: str) -> AccrualRule | None:
        result = await self.session.scalars(select(AccrualRule).where(AccrualRule.code == code))
        return result.first()

    async def add_rule_change(self, change: AccrualRuleChange) -> None:
        self.session.add(change)
        await self.session.flush()

    async def rule_changes(self, rule_id: int) -> Sequence[AccrualRuleChange]:
        result = await self.session.scalars(
            select(AccrualRuleChange)
            .where(AccrualRuleChange.rule_id == rule_id)
            .order_by(AccrualRuleChange.id)
        )
        return result.all()

    # the pending queue

    async def add_pending(self, rows: Sequence[PendingAccrual]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def pending_of_order(self, order_id: int) -> Sequence[PendingAccrual]:
        result = await self.session.scalars(
            select(PendingAccrual)
            .where(PendingAccrual.order_id == order_id)
            .order_by(PendingAccrual.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.all()

    async def lock_due(self, now: datetime, limit: int) -> Sequence[PendingAccrual]:
        """Due rows, locked; on PostgreSQL rows another worker holds are skipped, so
        workers share the queue without waiting on or repeating each other."""
        statement = (
            select(PendingAccrual)
            .where(PendingAccrual.status == PendingStatus.PENDING, PendingAccrual.due_at <= now)
            .order_by(PendingAccrual.due_at, PendingAccrual.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).all()

    async def set_aside_page(
        self, after_id: int | None, limit: int
    ) -> Sequence[tuple[PendingAccrual, Order]]:
        """Rows set aside, newest first, with their orders."""
        statement = (
            select(PendingAccrual, Order)
            .join(Order, Order.id == PendingAccrual.order_id)
            .where(PendingAccrual.status == PendingStatus.SET_ASIDE)
            .order_by(PendingAccrual.id.desc())
            .limit(limit)
        )
        if after_id is not None:
            statement = statement.where(PendingAccrual.id < after_id)
        return [(row, order) for row, order in await self.session.execute(statement)]

    async def mark_accrued(self, done: Sequence[tuple[int, int | None]], now: datetime) -> None:
        if not done:
            return
        connection = await self.session.connection()
        table = cast(Table, PendingAccrual.__table__)
        await connection.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                status=PendingStatus.ACCRUED, entry_id=bindparam("row_entry"), processed_at=now
            ),
            [{"row_id": row_id, "row_entry": entry_id} for row_id, entry_id in done],
        )

    async def pending_sums(self, customer_ids: Sequence[int]) -> dict[tuple[int, str], int]:
        rows: Iterable[Sequence[Any]]
        if (driver := await driver_reads(self.session)) is not None:
            pending = PendingStatus.PENDING.value
            rows = await driver.fetch(_DRIVER_PENDING_SUMS, list(customer_ids), pending)
        else:
            rows = await self.session.execute(_PENDING_SUMS, {"ids": list(customer_ids)})
        return {(customer_id, currency): int(total) for customer_id, currency, total in rows}

    async def order_history(self, after_customer_id: int, limit: int) -> Sequence[Any]:
        """Per customer: completion times of completed, not cancelled orders."""
        result = await self.session.execute(
            select(
                Order.customer_id,
                func.array_agg(aggregate_order_by(Order.completed_at, Order.completed_at)),
            )
            .where(Order.status == OrderStatus.COMPLETED, Order.customer_id > after_customer_id)
            .group_by(Order.customer_id)
            .order_by(Order.customer_id)
            .limit(limit)
        )
        return result.all()

    async def order_window(self, customer_id: int, reset_after: timedelta) -> tuple[int, Any]:
        """How many of the customer's completed, not cancelled orders came since their
        last gap longer than ``reset_after``, and the latest completion."""
        params = {"customer": customer_id, "reset": reset_after}
        row = (await self.session.execute(_ORDER_WINDOW, params)).one()
        return int(row[0]), row[1]

    async def customers_with_orders(self) -> int:
        count = await self.session.scalar(select(func.count(func.distinct(Order.customer_id))))
        return int(count or 0)


# The orders since the last long gap: each completion's gap to the one before it, the
# latest one that followed a gap over the reset, and what came from it on.
_ORDER_WINDOW = text("""
WITH done AS (
    SELECT completed_at,
           completed_at - lag(completed_at) OVER (ORDER BY completed_at, id) AS gap
    FROM orders
    WHERE customer_id = :customer AND status = 'completed'
), window_start AS (
    SELECT max(completed_at) AS at FROM done WHERE gap > :reset
)
SELECT count(*), max(done.completed_at)
FROM done, window_start
WHERE window_start.at IS NULL OR done.completed_at >= window_start.at
""")

# The tills' quote reads it: its twin on the driver (tests/test_driver_reads.py).
_DRIVER_CASHBACK_CAP = (
    "SELECT max_bp FROM cashback_caps WHERE currency = $1 AND (brand IS NULL OR brand = $2) "
    "ORDER BY brand IS NULL LIMIT 1"
)

# Read on every signed-in home screen: built once (see the ledger's repository).
_PENDING_SUMS = (
    select(PendingAccrual.customer_id, PendingAccrual.currency, func.sum(PendingAccrual.amount))
    .where(
        PendingAccrual.customer_id.in_(bindparam("ids", expanding=True)),
        PendingAccrual.status == PendingStatus.PENDING,
    )
    .group_by(PendingAccrual.customer_id, PendingAccrual.currency)
)
# Its twin on the driver (bff.kernel.driver; tests/test_driver_reads.py).
_DRIVER_RULES_VALID_AT = driver_select(
    AccrualRule,
    "active AND (brand IS NULL OR brand = $1) AND valid_from <= $2 "
    "AND (valid_to IS NULL OR valid_to > $2) ORDER BY id",
)
_DRIVER_PENDING_SUMS = (
    "SELECT customer_id, currency, sum(amount) FROM pending_accruals "
    "WHERE customer_id = ANY($1::bigint[]) AND status = $2 GROUP BY customer_id, currency"
)
