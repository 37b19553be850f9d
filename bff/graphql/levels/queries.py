"""Level queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.levels.types import (
    Level,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class LevelQueries:
    @strawberry.field(description="Every level of the program, lowest first.")
    async def levels(self, info: strawberry.Info[Context, None]) -> list[Level]:
        levels = await info.context.loaders.levels.load(None)
        return [Level.from_model(level, info.context.locale) for level in levels]
