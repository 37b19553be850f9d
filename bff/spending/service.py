"""Spending rules (staff set them; every change is recorded with its author) and the one
rule that says how many points may pay for an order, used by the app's cart and by the
tills' quote alike."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.errors import DomainError
from bff.kernel.types import utcnow
from bff.ledger.models import HoldStatus
from bff.ledger.reasons import Reason
from bff.ledger.service import HoldResult, IdempotencyKey, LedgerService, Source
from bff.spending.errors import SpendingErrorCode
from bff.spending.models import CheckoutPayment, SpendingRule, SpendingRuleChange
from bff.spending.repository import SpendingRepository

WHOLE = 10_000  # basis points
CURRENCY = "POINTS"  # what pays at checkout
MAX_ORDER_KOPECKS = 10**12


class InvalidShare(DomainError):
    code = SpendingErrorCode.INVALID_SHARE
    field = ("max_share_basis_points",)


class InvalidPointValue(DomainError):
    code = SpendingErrorCode.INVALID_POINT_VALUE
    field = ("kopecks_per_point",)


class InvalidMoneyMinimum(DomainError):
    code = SpendingErrorCode.INVALID_MONEY_MINIMUM
    field = ("min_money_kopecks",)


class SpendingCurrencyDisabled(DomainError):
    code = SpendingErrorCode.CURRENCY_DISABLED
    field = ("currency",)


class InvalidOrderAmount(DomainError):
    code = SpendingErrorCode.INVALID_AMOUNT
    field = ("amount",)


class Limit(enum.StrEnum):
    """What decided how many points may pay."""

    BALANCE = "BALANCE"  # the customer has no more available
    SHARE = "SHARE"  # the rule's share of the order
    LEVEL_PERK = "LEVEL_PERK"  # the share the customer's level allows instead
    MONEY_MINIMUM = "MONEY_MINIMUM"  # the part that must be paid in money
    NO_RULE = "NO_RULE"  # points do not pay for this brand's orders


@dataclass
class SpendingRuleDraft:
    currency: str
    kopecks_per_point: int
    max_share_bp: int
    brand: str | None = None
    min_money_kopecks: int = 0
    level_shares: dict[str, int] = field(default_factory=dict)
    active: bool = True


def snapshot(rule: SpendingRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in SpendingRuleDraft.__dataclass_fields__}


@dataclass(frozen=True)
class Spendable:
    """How many points may pay for an order, what they are worth, and why that many."""

    points: int
    value_kopecks: int
    limit: Limit
    point_value: int = 0  # kopecks per point; 0 where no rule lets points pay


class OverSpendable(DomainError):
    code = SpendingErrorCode.OVER_SPENDABLE
    field = ("points",)


class PaymentNotForOrder(DomainError):
    code = SpendingErrorCode.PAYMENT_NOT_FOR_ORDER
    field = ("order", "points_hold_id")


@dataclass(frozen=True)
class OrderRef:
    """An order of the ordering system, as a checkout names it."""

    customer_id: int
    brand: str
    order_id: str
    amount: int


def spendable(
    rule: SpendingRule | None, available: int, amount: int, level_code: str | None
) -> Spendable:
    """The one rule: the least of the balance, the share of the order (the level's own
    share where it has one) and the order less the part to pay in money, in whole points."""
    if rule is None or not rule.active:
        return Spendable(0, 0, Limit.NO_RULE)
    share, by = rule.max_share_bp, Limit.SHARE
    if level_code is not None and level_code in (rule.level_shares or {}):
        share, by = int(rule.level_shares[level_code]), Limit.LEVEL_PERK
    bounds = [
        (amount * share // WHOLE // rule.kopecks_per_point, by),
        (max(0, amount - rule.min_money_kopecks) // rule.kopecks_per_point, Limit.MONEY_MINIMUM),
        (max(0, available), Limit.BALANCE),
    ]
    points, limit = min(bounds, key=lambda bound: bound[0])
    return Spendable(points, points * rule.kopecks_per_point, limit, rule.kopecks_per_point)


def checkout_source(brand: str, order_id: str) -> Source:
    return Source("checkout", f"{brand}:{order_id}")


class SpendingService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = SpendingRepository(session)
        self.ledger = LedgerService(session)

    async def rules(self) -> list[SpendingRule]:
        return list(await self.repository.rules())

    async def changes(self, rule_id: int) -> list[SpendingRuleChange]:
        return list(await self.repository.changes(rule_id))

    async def set_rule(self, draft: SpendingRuleDraft, actor: str) -> SpendingRule:
        """Create or replace the rule of (currency, brand); the change is recorded."""
        await self._validate(draft)
        rule = await self.repository.rule_for(draft.currency, draft.brand)
        before = snapshot(rule) if rule is not None else None
        now = utcnow()
        if rule is None:
            rule = SpendingRule(created_at=now)
        for name, value in asdict(draft).items():
            setattr(rule, name, value)
        rule.updated_at = now
        await self.repository.save(rule)
        change = SpendingRuleChange(
            rule_id=rule.id, actor=actor, before=before, after=snapshot(rule), changed_at=now
        )
        await self.repository.save(change)
        return rule

    async def for_order(
        self,
        customer_id: int,
        currency: str,
        brand: str | None,
        amount: int,
        level: str | None,
        *,
        available: int | None = None,
    ) -> Spendable:
        """How many of the customer's ``currency`` may pay an order of ``amount`` kopecks
        (``available``: what the caller read of the wallet already)."""
        if not 0 < amount <= MAX_ORDER_KOPECKS:
            raise InvalidOrderAmount()
        rule = await self.repository.applicable(currency, brand)
        if available is None:
            wallets = await self.ledger.wallets_of([customer_id])
            available = sum(w.balance - w.held for w in wallets if w.currency == currency)
        return spendable(rule, available, amount, level)

    async def hold_for_order(
        self,
        order: OrderRef,
        points: int,
        allowed: Spendable,
        *,
        ttl: timedelta,
        idempotency: IdempotencyKey,
    ) -> tuple[HoldResult, CheckoutPayment]:
        """Hold ``points`` to pay part of ``order``, at most what the rule allows
        (``allowed``, from ``for_order``: read before this unit of work, since the hold
        itself refuses points the wallet no longer has); their value is fixed now, for the
        order's completion to capture."""
        over = not 0 < points <= allowed.points
        # A retry of a hold already made is answered by the ledger (the same hold, or a
        # conflict for another body), although its points are no longer available.
        if over and not await self.ledger.key_used(idempotency):
            raise OverSpendable(allowed=allowed.points, reason=allowed.limit)
        held = await self.ledger.hold(
            order.customer_id,
            CURRENCY,
            points,
            reason=Reason("LEDGER_ORDER_PAYMENT", {"order": order.order_id}),
            source=checkout_source(order.brand, order.order_id),
            ttl=ttl,
            idempotency=idempotency,
        )
        payment = await self.repository.payment_by_hold(held.hold.id) if held.replayed else None
        if payment is None:
            payment = CheckoutPayment(
                hold_id=held.hold.id,
                customer_id=order.customer_id,
                brand=order.brand,
                order_id=order.order_id,
                points=points,
                value_kopecks=points * allowed.point_value,
                created_at=utcnow(),
            )
            await self.repository.add_payment(payment)
        return held, payment

    async def payment(self, hold_id: int) -> CheckoutPayment | None:
        return await self.repository.payment_by_hold(hold_id)

    async def capture(self, payment: CheckoutPayment, points: int | None) -> HoldResult:
        """Take all or part of the points held for ``payment``, before or without the
        order's completion event; what is not taken goes back to the customer."""
        return await self.ledger.capture(
            payment.hold_id, points, reason=Reason("LEDGER_ORDER", {"order": payment.order_id})
        )

    async def void(self, payment: CheckoutPayment) -> HoldResult:
        return await self.ledger.void(
            payment.hold_id, reason=Reason("LEDGER_ORDER_NOT_PAID", {"order": payment.order_id})
        )

    async def release_for_order(self, brand: str, order_id: str) -> int | None:
        """An order cancelled before it completed: the points still held for it go back.
        How many holds were released; None when no points were ever held for it."""
        payments = await self.repository.payments_of_order(brand, order_id)
        if not payments:
            return None
        released = 0
        for payment in payments:
            hold = await self.ledger.find_hold(payment.hold_id)
            if hold is not None and hold.status == HoldStatus.ACTIVE:
                cancelled = Reason("LEDGER_ORDER_CANCELLED", {"order": order_id})
                await self.ledger.void(payment.hold_id, reason=cancelled)
                released += 1
        return released

    async def settle(self, payment: CheckoutPayment) -> int:
        """The points that paid the order when it completed: those the till already
        captured, or all that were held; a voided or expired hold is refused."""
        hold = await self.ledger.find_hold(payment.hold_id)
        if hold is not None and hold.status == HoldStatus.CAPTURED:
            return hold.captured_amount
        return (await self.capture(payment, None)).hold.captured_amount

    async def payment_of(self, hold_id: int, order: OrderRef) -> CheckoutPayment:
        """The payment held by ``hold_id``, if it was held for this very order."""
        payment = await self.repository.payment_by_hold(hold_id)
        if payment is None or (payment.customer_id, payment.brand, payment.order_id) != (
            order.customer_id,
            order.brand,
            order.order_id,
        ):
            raise PaymentNotForOrder()
        return payment

    async def _validate(self, draft: SpendingRuleDraft) -> None:
        currency = await self.ledger.currency(draft.currency)
        if currency is None or not currency.enabled:
            raise SpendingCurrencyDisabled(currency=draft.currency)
        if not 0 < draft.kopecks_per_point <= 1_000_000:
            raise InvalidPointValue()
        shares = [draft.max_share_bp, *draft.level_shares.values()]
        if not all(isinstance(s, int) and 0 <= s <= WHOLE for s in shares):
            raise InvalidShare()
        if not 0 <= draft.min_money_kopecks <= MAX_ORDER_KOPECKS:
            raise InvalidMoneyMinimum()
