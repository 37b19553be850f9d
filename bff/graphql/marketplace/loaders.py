"""Marketplace DataLoaders: one `IN (...)` statement per batch, results in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bff.db import Reader
from bff.ledger.models import Hold
from bff.ledger.repository import LedgerRepository
from bff.marketplace.models import Category, Product, StopListEntry
from bff.marketplace.repository import MarketplaceRepository
from bff.types import utcnow

# (category id, page size + 1, after product id): pages of one shape load together
ProductPageKey = tuple[int, int, int | None]


class MarketplaceLoaders:
    def __init__(self, db: Reader) -> None:
        self.db = db

    async def category_by_id(self, category_ids: Sequence[int]) -> list[Category | None]:
        async with self.db.read() as session:
            rows = await MarketplaceRepository(session).categories_by_ids(category_ids)
        by_id = {row.id: row for row in rows}
        return [by_id.get(pk) for pk in category_ids]

    async def product_by_id(self, product_ids: Sequence[int]) -> list[Product | None]:
        async with self.db.read() as session:
            rows = await MarketplaceRepository(session).products_by_ids(product_ids)
        by_id = {row.id: row for row in rows}
        return [by_id.get(pk) for pk in product_ids]

    async def products_by_category(self, keys: Sequence[ProductPageKey]) -> list[list[Product]]:
        """One statement per distinct (limit, after) among the keys: one in practice."""
        shapes: dict[tuple[int, int | None], list[int]] = defaultdict(list)
        for category_id, limit, after_id in keys:
            shapes[(limit, after_id)].append(category_id)
        found: dict[ProductPageKey, list[Product]] = defaultdict(list)
        async with self.db.read() as session:
            repository = MarketplaceRepository(session)
            for (limit, after_id), category_ids in shapes.items():
                rows = await repository.products_of_categories(
                    category_ids, after_id=after_id, limit=limit
                )
                for row in rows:
                    found[(row.category_id, limit, after_id)].append(row)
        return [found.get(key, []) for key in keys]

    async def stops_by_product_id(self, product_ids: Sequence[int]) -> list[list[StopListEntry]]:
        """Stop-list entries in force now, every city."""
        async with self.db.read() as session:
            rows = await MarketplaceRepository(session).stops_of(product_ids, utcnow())
        by_product: dict[int, list[StopListEntry]] = defaultdict(list)
        for row in rows:
            by_product[row.product_id].append(row)
        return [by_product.get(pk, []) for pk in product_ids]

    async def hold_by_id(self, hold_ids: Sequence[int]) -> list[Hold | None]:
        async with self.db.read() as session:
            rows = await LedgerRepository(session).holds_by_ids(hold_ids)
        by_id = {row.id: row for row in rows}
        return [by_id.get(pk) for pk in hold_ids]
