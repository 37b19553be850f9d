"""Earning DataLoaders: accruals waiting in the queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.earning.repository import EarningRepository
from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader


class EarningLoaders(LoaderSet):
    @cached_property
    def pending_by_customer_id(self) -> DataLoader[int, dict[str, int]]:
        """Per customer: points waiting in the queue, by currency."""
        return DataLoader(partial(_pending_by_customer_id, self.reads))


async def _pending_by_customer_id(
    reads: Reader, customer_ids: Sequence[int]
) -> list[dict[str, int]]:
    async with reads.read() as session:
        sums = await EarningRepository(session).pending_sums(customer_ids)
    grouped: dict[int, dict[str, int]] = defaultdict(dict)
    for (customer_id, currency), total in sums.items():
        grouped[customer_id][currency] = total
    return [grouped[customer_id] for customer_id in customer_ids]
