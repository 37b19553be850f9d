"""Feature-flag DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.flags.models import FeatureFlag
from bff.flags.repository import FlagRepository
from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader


class FlagLoaders(LoaderSet):
    @cached_property
    def flags(self) -> DataLoader[None, list[FeatureFlag]]:
        return self.shared("flags", partial(_flags, self.reads))


async def _flags(reads: Reader, keys: Sequence[None]) -> list[list[FeatureFlag]]:
    async with reads.read() as session:
        flags = list(await FlagRepository(session).all())
    return [flags for _ in keys]
