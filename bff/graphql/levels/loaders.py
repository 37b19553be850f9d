"""Level DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader
from bff.levels.models import CustomerLevel, Level
from bff.levels.repository import LevelRepository


class LevelLoaders(LoaderSet):
    @cached_property
    def standing_by_customer_id(self) -> DataLoader[int, CustomerLevel | None]:
        return DataLoader(partial(_standing_by_customer_id, self.reads))

    @cached_property
    def levels(self) -> DataLoader[None, list[Level]]:
        return self.shared("levels", partial(_levels, self.reads))


async def _standing_by_customer_id(
    reads: Reader, customer_ids: Sequence[int]
) -> list[CustomerLevel | None]:
    async with reads.read() as session:
        rows = await LevelRepository(session).standings(customer_ids)
    by_id = {row.customer_id: row for row in rows}
    return [by_id.get(customer_id) for customer_id in customer_ids]


async def _levels(reads: Reader, keys: Sequence[None]) -> list[list[Level]]:
    async with reads.read() as session:
        levels = list(await LevelRepository(session).levels())
    return [levels for _ in keys]
