"""Every SQL statement about spending rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.driver import driver_reads, driver_select
from bff.spending.models import (
    CheckoutPayment,
    SpendingRule,
    SpendingRuleChange,
    UsedCheckoutCode,
)


class SpendingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rules(self) -> Sequence[SpendingRule]:
        statement = select(SpendingRule).order_by(SpendingRule.currency, SpendingRule.id)
        return (await self.session.scalars(statement)).all()

    async def rule_for(self, currency: str, brand: str | None) -> SpendingRule | None:
        """The exact (currency, brand) rule, locked for a change."""
        statement = select(SpendingRule).where(SpendingRule.currency == currency)
        statement = statement.where(
            SpendingRule.brand.is_(None) if brand is None else SpendingRule.brand == brand
        )
        return (await self.session.scalars(statement.with_for_update())).first()

    async def applicable(self, currency: str, brand: str | None) -> SpendingRule | None:
        """The brand's own active rule, else the currency's rule for every brand."""
        if (driver := await driver_reads(self.session)) is not None:
            found = await driver.models(SpendingRule, _DRIVER_APPLICABLE, currency, brand)
            return found[0] if found else None
        statement = (
            select(SpendingRule)
            .where(SpendingRule.currency == currency, SpendingRule.active.is_(True))
            .where(SpendingRule.brand.is_(None) | (SpendingRule.brand == brand))
            .order_by(SpendingRule.brand.is_(None))
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def payment_by_hold(self, hold_id: int) -> CheckoutPayment | None:
        # A Core read: payments are never changed, so they need no place in the session.
        statement = select(_PAYMENTS).where(_PAYMENTS.c.hold_id == hold_id)
        row = (await self.session.execute(statement)).first()
        return CheckoutPayment(**row._mapping) if row else None

    async def use_code(self, nonce: str, now: datetime, forget_before: datetime) -> bool:
        """Mark a checkout code used; False when it was already. Codes used before
        ``forget_before`` can no longer be presented and are dropped on the way."""
        await self.session.execute(
            delete(UsedCheckoutCode).where(UsedCheckoutCode.used_at < forget_before)
        )
        inserted = await self.session.execute(
            pg_insert(UsedCheckoutCode)
            .values(nonce=nonce, used_at=now)
            .on_conflict_do_nothing()
            .returning(UsedCheckoutCode.nonce)
        )
        return inserted.first() is not None

    async def changes(self, rule_id: int) -> Sequence[SpendingRuleChange]:
        statement = (
            select(SpendingRuleChange)
            .where(SpendingRuleChange.rule_id == rule_id)
            .order_by(SpendingRuleChange.id)
        )
        return (await self.session.scalars(statement)).all()

    async def payments_of_order(self, brand: str, order_id: str) -> list[CheckoutPayment]:
        statement = (
            select(_PAYMENTS)
            .where(_PAYMENTS.c.brand == brand, _PAYMENTS.c.order_id == order_id)
            .order_by(_PAYMENTS.c.hold_id)
        )
        return [CheckoutPayment(**row._mapping) for row in await self.session.execute(statement)]

    async def add_payment(self, payment: CheckoutPayment) -> None:
        """Insert the payment without the unit of work's flush machinery (the hot path
        of every checkout)."""
        values = {column.key: getattr(payment, column.key) for column in _PAYMENT_FIELDS}
        statement = insert(_PAYMENTS).values(values).returning(_PAYMENTS.c.id)
        payment.id = (await self.session.execute(statement)).scalar_one()

    async def save(self, *rows: SpendingRule | SpendingRuleChange | CheckoutPayment) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()


_DRIVER_APPLICABLE = driver_select(
    SpendingRule,
    "currency = $1 AND active AND (brand IS NULL OR brand = $2) ORDER BY brand IS NULL LIMIT 1",
)
_PAYMENTS = cast(Table, CheckoutPayment.__table__)
_PAYMENT_FIELDS = [column for column in _PAYMENTS.columns if column.key != "id"]
