"""Every SQL statement about spending rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

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
        statement = (
            select(SpendingRule)
            .where(SpendingRule.currency == currency, SpendingRule.active.is_(True))
            .where(SpendingRule.brand.is_(None) | (SpendingRule.brand == brand))
            .order_by(SpendingRule.brand.is_(None))
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def payment_by_hold(self, hold_id: int) -> CheckoutPayment | None:
        statement = select(CheckoutPayment).where(CheckoutPayment.hold_id == hold_id)
        return (await self.session.scalars(statement)).first()

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

    async def save(self, *rows: SpendingRule | SpendingRuleChange | CheckoutPayment) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()
