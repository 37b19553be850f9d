"""Every SQL statement of the marketplace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bff.marketplace.models import Category, Product, Redemption, StopListEntry


class MarketplaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, *rows: Any) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()

    # catalogue

    async def category(self, category_id: int) -> Category | None:
        return await self.session.get(Category, category_id)

    async def categories_by_ids(self, category_ids: Sequence[int]) -> Sequence[Category]:
        statement = select(Category).where(Category.id.in_(category_ids))
        return (await self.session.scalars(statement)).all()

    async def active_categories(self) -> Sequence[Category]:
        """The whole shelf in display order: categories are few (dozens), so pages are
        cut from this list rather than with a composite keyset."""
        statement = (
            select(Category)
            .where(Category.active.is_(True))
            .order_by(Category.sort_order, Category.id)
        )
        return (await self.session.scalars(statement)).all()

    async def product(self, product_id: int) -> Product | None:
        return await self.session.get(Product, product_id)

    async def products_by_ids(self, product_ids: Sequence[int]) -> Sequence[Product]:
        statement = select(Product).where(Product.id.in_(product_ids))
        return (await self.session.scalars(statement)).all()

    async def products_of_categories(
        self, category_ids: Sequence[int], *, after_id: int | None, limit: int
    ) -> Sequence[Product]:
        """Up to ``limit`` active products of each category, by id: one statement for any
        number of categories (a window function numbers each category's products)."""
        position = (
            func.row_number()
            .over(partition_by=Product.category_id, order_by=Product.id)
            .label("position")
        )
        ranked = select(Product, position).where(
            Product.category_id.in_(category_ids), Product.active.is_(True)
        )
        if after_id is not None:
            ranked = ranked.where(Product.id > after_id)
        numbered = ranked.subquery()
        product = aliased(Product, numbered)
        statement = (
            select(product)
            .where(numbered.c.position <= limit)
            .order_by(numbered.c.category_id, numbered.c.id)
        )
        return (await self.session.scalars(statement)).all()

    # stop-list

    async def stops_of(self, product_ids: Sequence[int], now: datetime) -> Sequence[StopListEntry]:
        """Stop-list entries in force ``now`` for these products, every scope."""
        statement = select(StopListEntry).where(
            StopListEntry.product_id.in_(product_ids),
            or_(StopListEntry.until.is_(None), StopListEntry.until > now),
        )
        return (await self.session.scalars(statement)).all()

    async def stop(self, product_id: int, scope: str) -> StopListEntry | None:
        statement = select(StopListEntry).where(
            StopListEntry.product_id == product_id, StopListEntry.scope == scope
        )
        return (await self.session.scalars(statement)).first()

    async def delete(self, row: Any) -> None:
        await self.session.delete(row)
        await self.session.flush()

    # redemptions

    async def redemption(self, redemption_id: int) -> Redemption | None:
        return await self.session.get(Redemption, redemption_id)

    async def redemption_by_key(self, customer_id: int, key: str) -> Redemption | None:
        statement = select(Redemption).where(
            Redemption.customer_id == customer_id, Redemption.idempotency_key == key
        )
        return (await self.session.scalars(statement)).first()

    async def redemption_by_hold(self, hold_id: int) -> Redemption | None:
        statement = select(Redemption).where(Redemption.hold_id == hold_id)
        return (await self.session.scalars(statement)).first()

    async def redemptions_page(
        self, customer_id: int, *, after_id: int | None, limit: int
    ) -> Sequence[Redemption]:
        """Newest first."""
        statement = select(Redemption).where(Redemption.customer_id == customer_id)
        if after_id is not None:
            statement = statement.where(Redemption.id < after_id)
        statement = statement.order_by(Redemption.id.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()
