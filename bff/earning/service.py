"""Orders in, pending accruals out, and the worker that turns due ones into points.

An order's accruals wait for the hold window (the order may still be cancelled), then a
worker posts them to the ledger. A refund takes back the refunded share: from the queue
while it waits, from the wallet once accrued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.service import CustomerService
from bff.earning.cashback import CashbackHistory, CashbackService, ChangeReason
from bff.earning.errors import EarningErrorCode
from bff.earning.models import AccrualRule, Order, OrderStatus, PendingAccrual, PendingStatus
from bff.earning.repository import EarningRepository
from bff.earning.rules import OrderFacts, expiry_for, points_for, proportional, rule_applies
from bff.flags.service import FlagService
from bff.kernel.errors import DomainError
from bff.kernel.i18n import message
from bff.kernel.metrics import count_set_aside
from bff.kernel.texts import every_language
from bff.kernel.types import utcnow
from bff.ledger.bulk import Accrual
from bff.ledger.reasons import Reason
from bff.ledger.service import MAX_AMOUNT, IdempotencyKey, LedgerService, Source
from bff.levels.service import (
    Level,
    LevelPolicy,
    LevelService,
    OrderHistory,
    OrderWindow,
    WindowReader,
)
from bff.spending.service import OrderRef, SpendingService

log = logging.getLogger(__name__)


class OrderNotFound(DomainError):
    code = EarningErrorCode.ORDER_NOT_FOUND


class RefundExceedsOrder(DomainError):
    code = EarningErrorCode.REFUND_EXCEEDS_ORDER


class AccrualOverLimit(DomainError):
    """Refused at the door: a pending accrual the ledger could never post would wait
    forever (the ledger's limit per posting is ``MAX_AMOUNT``)."""

    code = EarningErrorCode.ACCRUAL_OVER_LIMIT


@dataclass(frozen=True)
class EarningPolicy:
    hold_window: timedelta = timedelta(hours=2)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    levels: LevelPolicy = field(default_factory=LevelPolicy)


@dataclass(frozen=True)
class CompletedOrder:
    external_id: str
    brand: str
    customer_external_id: str
    city: str | None
    amount: int
    completed_at: datetime
    items: list[object] | None = None
    points_hold_id: int | None = None


class Earning(NamedTuple):
    """What one rule would accrue for an order."""

    rule: AccrualRule
    points: int


@dataclass(frozen=True)
class Outcome:
    status: str  # applied | ignored
    reason: str | None = None
    accruals: Sequence[PendingAccrual] = ()


IGNORED_CANCELLED = Outcome("ignored", "ORDER_CANCELLED")


class OrderService:
    def __init__(
        self,
        session: AsyncSession,
        policy: EarningPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.policy = policy or EarningPolicy()
        self.clock = clock
        self.session = session
        self.repository = EarningRepository(session)
        self.customers = CustomerService(session)
        self.levels = LevelService(session, self.policy.levels, clock=clock)
        self.flags = FlagService(session)
        self.ledger = LedgerService(session, clock=clock)
        self.spending = SpendingService(session)

    async def order_history(self, after_customer_id: int, limit: int) -> list[OrderHistory]:
        """Per customer, by id after ``after_customer_id``: completed, not cancelled
        orders and the latest completion."""
        rows = await self.repository.order_history(after_customer_id, limit)
        return [(customer_id, list(completions)) for customer_id, completions in rows]

    def _window_reader(self, customer_id: int) -> WindowReader:
        async def read() -> OrderWindow:
            count, last = await self.repository.order_window(
                customer_id, self.levels.policy.reset_after
            )
            return OrderWindow(count, last)

        return read

    async def customers_with_orders(self) -> int:
        return await self.repository.customers_with_orders()

    async def complete(self, order: CompletedOrder) -> Outcome:
        customer = await self.customers.ensure(order.customer_external_id)
        if order.city:
            await self.customers.set_city(customer.id, order.city)
        order_id = await self.repository.insert_order(
            {
                "external_id": order.external_id,
                "brand": order.brand,
                "customer_id": customer.id,
                "city": order.city,
                "amount": order.amount,
                "refunded_amount": 0,
                "status": OrderStatus.COMPLETED,
                "completed_at": order.completed_at,
                "items": order.items,
                "points_hold_id": order.points_hold_id,
                "created_at": self.clock(),
            }
        )
        if order_id is None:
            return Outcome("ignored", "ORDER_EXISTS")
        paid_in_money = await self._capture_points(order, customer.id)
        earning = replace(order, amount=paid_in_money)
        pending = await self._pending_for(order_id, customer.id, customer.external_id, earning)
        await self.repository.add_pending(pending)
        ref = f"{order.brand}:{order.external_id}"
        before = await self.levels.level_code_of(customer.id)
        after = await self.levels.record_completed_order(
            customer.id, ref, self._window_reader(customer.id)
        )
        if before is not None and after.code != before:
            history = CashbackHistory(self.session, self.policy.levels, clock=self.clock)
            await history.observe(customer.id, ChangeReason.ORDER, f"order:{ref}")
        return Outcome("applied", accruals=pending)

    async def _capture_points(self, order: CompletedOrder, customer_id: int) -> int:
        """Take the points held for the order at checkout; what is left was paid in money,
        and only that earns."""
        if order.points_hold_id is None:
            return order.amount
        ref = OrderRef(customer_id, order.brand, order.external_id, order.amount)
        payment = await self.spending.payment_of(order.points_hold_id, ref)
        captured = await self.spending.settle(payment)
        return max(0, order.amount - payment.value_of(captured))

    async def preview(
        self, subject: str, customer_id: int, facts: OrderFacts, level: Level
    ) -> list[Earning]:
        """What an order would earn if it completed now, paid in money, for a customer
        at ``level`` (read already): the same rules, flags and percentage as
        ``complete``, and nothing written."""
        return await self._earnings(subject, customer_id, facts, level)

    async def _earnings(
        self, subject: str, customer_id: int, facts: OrderFacts, level: Level | None = None
    ) -> list[Earning]:
        rules = await self.repository.rules_valid_at(facts.brand, facts.completed_at)
        # The percentage of the moment the order completed: the level the customer held
        # (this order counts after) and the partner products active then, within the cap.
        cashback = CashbackService(self.session, self.policy.levels, clock=self.clock)
        moment = facts.completed_at
        found = await cashback.of(customer_id, facts.brand, moment, level=level, rules=rules)
        bonus, earnings = found.extra_bp, []
        for rule in rules:
            if not rule_applies(rule, facts):
                continue
            if rule.flag_key and not await self.flags.is_enabled(
                rule.flag_key, subject, facts.city
            ):
                continue
            points = points_for(rule, facts.amount, bonus)
            if points <= 0:
                continue
            if points > MAX_AMOUNT:
                raise AccrualOverLimit(rule=rule.code, points=points, limit=MAX_AMOUNT)
            earnings.append(Earning(rule, points))
        return earnings

    async def _pending_for(
        self, order_id: int, customer_id: int, subject: str, order: CompletedOrder
    ) -> list[PendingAccrual]:
        facts = OrderFacts(order.brand, order.city, order.amount, order.completed_at)
        rows = []
        for rule, points in await self._earnings(subject, customer_id, facts):
            rows.append(
                PendingAccrual(
                    order_id=order_id,
                    rule_id=rule.id,
                    customer_id=customer_id,
                    currency=rule.currency,
                    computed_amount=points,
                    amount=points,
                    reversed_amount=0,
                    shortfall=0,
                    status=PendingStatus.PENDING,
                    due_at=order.completed_at + self.policy.hold_window,
                    reason=rule.title,
                    reason_texts=every_language(rule, "title"),
                    expiry_policy=rule.expiry_policy,
                    expiry_days=rule.expiry_days,
                    created_at=self.clock(),
                )
            )
        return rows

    async def cancel(self, brand: str, external_id: str) -> Outcome:
        """Take back what the order earned and give back the points that paid it; an
        order cancelled before it completed releases the points held for it."""
        order = await self.repository.lock_order(brand, external_id)
        if order is None:
            released = await self.spending.release_for_order(brand, external_id)
            if released is None:
                raise OrderNotFound()
            return Outcome("applied", "POINTS_RELEASED") if released else IGNORED_CANCELLED
        if order.status == OrderStatus.CANCELLED:
            return IGNORED_CANCELLED
        order.status, order.cancelled_at = OrderStatus.CANCELLED, self.clock()
        await self._take_back(order, remaining=0)
        await self._return_points(order, remaining=0)
        await self.repository.save(order)  # flushed: the window no longer counts it
        await self.levels.record_cancelled_order(
            order.customer_id, self._window_reader(order.customer_id)
        )
        return Outcome("applied")

    async def refund(self, brand: str, external_id: str, amount: int) -> Outcome:
        order = await self._order(brand, external_id)
        if order.status == OrderStatus.CANCELLED:
            return Outcome("ignored", "ORDER_CANCELLED")
        if not 0 < amount <= order.amount - order.refunded_amount:
            raise RefundExceedsOrder(refundable=order.amount - order.refunded_amount)
        order.refunded_amount += amount
        remaining = order.amount - order.refunded_amount
        await self._take_back(order, remaining=remaining)
        await self._return_points(order, remaining=remaining)
        await self.repository.save(order)
        return Outcome("applied")

    async def _order(self, brand: str, external_id: str) -> Order:
        order = await self.repository.lock_order(brand, external_id)
        if order is None:
            raise OrderNotFound()
        return order

    async def _take_back(self, order: Order, remaining: int) -> None:
        """Shrink waiting accruals to the kept share; reverse the excess of posted ones."""
        rows = await self.repository.pending_of_order(order.id)
        for row in rows:
            kept = proportional(row.computed_amount, order.amount, remaining)
            if row.status in (PendingStatus.PENDING, PendingStatus.SET_ASIDE):
                row.amount = kept
                if remaining == 0:
                    row.status = PendingStatus.CANCELLED
            elif row.status == PendingStatus.ACCRUED:
                owed = row.amount - kept - row.reversed_amount - row.shortfall
                if owed > 0:
                    await self._reverse(order, row, owed)
        await self.repository.save(*rows)

    async def _return_points(self, order: Order, remaining: int) -> None:
        """The points that paid part of the order come back in the share refunded (all of
        them on a cancellation), as a refund of their capture."""
        if order.points_hold_id is None:
            return
        hold = await self.ledger.find_hold(order.points_hold_id)
        assert hold is not None
        kept = proportional(hold.captured_amount, order.amount, remaining)
        owed = hold.captured_amount - kept - hold.refunded_amount
        if owed > 0:
            await self.ledger.refund(
                hold.id,
                owed,
                reason=Reason("LEDGER_ORDER_REFUNDED", {"order": order.external_id}),
                idempotency=IdempotencyKey(
                    "order-points", f"{order.brand}:{order.external_id}:{remaining}"
                ),
            )

    async def _reverse(self, order: Order, row: PendingAccrual, owed: int) -> None:
        _, shortfall = await self.ledger.reverse(
            row.customer_id,
            row.currency,
            owed,
            reason=Reason("LEDGER_ACCRUAL_REFUNDED", {"accrual": row.reason_texts or row.reason}),
            source=Source("order", f"{order.brand}:{order.external_id}"),
        )
        row.reversed_amount += owed - shortfall
        row.shortfall += shortfall


@dataclass(frozen=True)
class SetAside:
    """A pending accrual the ledger refused, with the error, for staff to look at."""

    id: int
    customer_id: int
    brand: str
    order_external_id: str
    currency: str
    amount: int
    reason: str
    failure: str
    set_aside_at: datetime


class AccrualQueue:
    """Turns due pending accruals into ledger postings, a batch per transaction."""

    def __init__(
        self,
        session: AsyncSession,
        policy: EarningPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.policy = policy or EarningPolicy()
        self.clock = clock
        self.session = session
        self.session = session
        self.repository = EarningRepository(session)
        self.ledger = LedgerService(session, clock=clock)

    async def drain(self, limit: int) -> int:
        """Accrue up to ``limit`` due rows; returns how many were taken.

        A row the ledger refuses (a currency switched off since, an amount it cannot
        post) would fail its whole batch on every round, and nobody's points would post:
        the batch is then posted row by row, and each refused row is set aside with its
        error for staff, while the others post.
        """
        now = self.clock()
        rows = await self.repository.lock_due(now, limit)
        posting = [row for row in rows if row.amount > 0]
        try:
            async with self.session.begin_nested():
                entry_ids = await self.ledger.accrue_many(
                    [self._accrual(row, now) for row in posting]
                )
            posted = {row.id: entry_id for row, entry_id in zip(posting, entry_ids, strict=True)}
        except DomainError:
            posted = await self._post_one_by_one(posting, now)
        done = [
            (row.id, posted.get(row.id)) for row in rows if row.status != PendingStatus.SET_ASIDE
        ]
        await self.repository.mark_accrued(done, now)
        return len(rows)

    async def set_aside(self, after_id: int | None, limit: int) -> list[SetAside]:
        """Rows set aside for staff, newest first."""
        rows = await self.repository.set_aside_page(after_id, limit)
        return [
            SetAside(
                id=row.id,
                customer_id=row.customer_id,
                brand=order.brand,
                order_external_id=order.external_id,
                currency=row.currency,
                amount=row.amount,
                reason=row.reason,
                failure=row.failure or "",
                set_aside_at=row.processed_at or row.due_at,
            )
            for row, order in rows
        ]

    def _accrual(self, row: PendingAccrual, now: datetime) -> Accrual:
        return Accrual(
            customer_id=row.customer_id,
            currency=row.currency,
            amount=row.amount,
            reason=Reason("LEDGER_RULE", {"title": row.reason_texts or row.reason}),
            source_type="pending",
            source_id=str(row.id),
            expires_at=expiry_for(row.expiry_policy, row.expiry_days, now, self.policy.zone),
        )

    async def _post_one_by_one(
        self, rows: Sequence[PendingAccrual], now: datetime
    ) -> dict[int, int]:
        posted: dict[int, int] = {}
        for row in rows:
            try:
                async with self.session.begin_nested():
                    [posted[row.id]] = await self.ledger.accrue_many([self._accrual(row, now)])
            except DomainError as error:
                failure = f"{error.code}: {message(error.code, 'en', error.params)}"
                row.status, row.failure, row.processed_at = (
                    PendingStatus.SET_ASIDE,
                    failure[:200],
                    now,
                )
                log.warning("pending accrual %s set aside: %s", row.id, failure)
                count_set_aside("accruals")
        await self.repository.save(*rows)
        return posted
