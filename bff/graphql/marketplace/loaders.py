"""Marketplace DataLoaders: one `IN (...)` statement per batch, results in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader
from bff.kernel.types import utcnow
from bff.marketplace.models import Category, Product, StopListEntry
from bff.marketplace.repository import MarketplaceRepository

# (category id, page size + 1, after product id): pages of one shape load together
ProductPageKey = tuple[int, int, int | None]


class MarketplaceLoaders(LoaderSet):
    @cached_property
    def category_by_id(self) -> DataLoader[int, Category | None]:
        return self.shared("category", partial(_category_by_id, self.reads))

    @cached_property
    def product_by_id(self) -> DataLoader[int, Product | None]:
        return self.shared("product", partial(_product_by_id, self.reads))

    @cached_property
    def products_by_category(self) -> DataLoader[ProductPageKey, list[Product]]:
        return self.shared("shelf", partial(_products_by_category, self.reads))

    @cached_property
    def stops_by_product_id(self) -> DataLoader[int, list[StopListEntry]]:
        return self.shared("stops", partial(_stops_by_product_id, self.reads))


async def _category_by_id(reads: Reader, category_ids: Sequence[int]) -> list[Category | None]:
    async with reads.read() as session:
        rows = await MarketplaceRepository(session).categories_by_ids(category_ids)
    by_id = {row.id: row for row in rows}
    return [by_id.get(pk) for pk in category_ids]


async def _product_by_id(reads: Reader, product_ids: Sequence[int]) -> list[Product | None]:
    async with reads.read() as session:
        rows = await MarketplaceRepository(session).products_by_ids(product_ids)
    by_id = {row.id: row for row in rows}
    return [by_id.get(pk) for pk in product_ids]


async def _products_by_category(
    reads: Reader, keys: Sequence[ProductPageKey]
) -> list[list[Product]]:
    """One statement per distinct (limit, after) among the keys: one in practice."""
    shapes: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for category_id, limit, after_id in keys:
        shapes[(limit, after_id)].append(category_id)
    found: dict[ProductPageKey, list[Product]] = defaultdict(list)
    async with reads.read() as session:
        repository = MarketplaceRepository(session)
        for (limit, after_id), category_ids in shapes.items():
            rows = await repository.products_of_categories(
                category_ids, after_id=after_id, limit=limit
            )
            for row in rows:
                found[(row.category_id, limit, after_id)].append(row)
    return [found.get(key, []) for key in keys]


async def _stops_by_product_id(
    reads: Reader, product_ids: Sequence[int]
) -> list[list[StopListEntry]]:
    """Stop-list entries in force now, every city."""
    async with reads.read() as session:
        rows = await MarketplaceRepository(session).stops_of(product_ids, utcnow())
    by_product: dict[int, list[StopListEntry]] = defaultdict(list)
    for row in rows:
        by_product[row.product_id].append(row)
    return [by_product.get(pk, []) for pk in product_ids]
