"""Level, pending-accrual and flag DataLoaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bff.db import Reader
from bff.earning.repository import EarningRepository
from bff.flags.models import FeatureFlag
from bff.flags.repository import FlagRepository
from bff.levels.models import CustomerLevel, Level
from bff.levels.repository import LevelRepository


class LevelLoaders:
    def __init__(self, db: Reader) -> None:
        self.db = db

    async def standing_by_customer_id(
        self, customer_ids: Sequence[int]
    ) -> list[CustomerLevel | None]:
        async with self.db.read() as session:
            rows = await LevelRepository(session).standings(customer_ids)
        by_id = {row.customer_id: row for row in rows}
        return [by_id.get(customer_id) for customer_id in customer_ids]

    async def levels(self, keys: Sequence[None]) -> list[list[Level]]:
        async with self.db.read() as session:
            levels = list(await LevelRepository(session).levels())
        return [levels for _ in keys]

    async def pending_by_customer_id(self, customer_ids: Sequence[int]) -> list[dict[str, int]]:
        async with self.db.read() as session:
            sums = await EarningRepository(session).pending_sums(customer_ids)
        grouped: dict[int, dict[str, int]] = defaultdict(dict)
        for (customer_id, currency), total in sums.items():
            grouped[customer_id][currency] = total
        return [grouped[customer_id] for customer_id in customer_ids]

    async def flags(self, keys: Sequence[None]) -> list[list[FeatureFlag]]:
        async with self.db.read() as session:
            flags = list(await FlagRepository(session).all())
        return [flags for _ in keys]
