"""Level queries: the ladder for everyone, the movement history for analysts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.levels.types import Level, LevelMovement, LevelMovementReason
from bff.graphql.pagination import (
    Connection,
    Since,
    Until,
    build_connection,
    decode_cursor,
    page_size,
)
from bff.kernel.auth import Role
from bff.levels.service import MovementHistory

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class LevelQueries:
    @strawberry.field(description="Every level of the program, lowest first.")
    async def levels(self, info: strawberry.Info[Context, None]) -> list[Level]:
        levels = await info.context.loaders.levels.load(None)
        return [Level.from_model(level, info.context.locale) for level in levels]

    @strawberry.field(
        description="Staff (role `marketing`): every movement of customers' levels, oldest "
        "first; `loyalty-bff export level-movements` writes the same rows as CSV."
    )
    async def level_movements(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
        since: Since = None,
        until: Until = None,
        reasons: Annotated[
            list[LevelMovementReason] | None,
            strawberry.argument(description="Only these reasons; null: every one."),
        ] = None,
    ) -> Connection[LevelMovement]:
        context = info.context
        context.require_role(Role.MARKETING)
        size = page_size(first, context.settings.max_page_size)
        async with context.reads.read() as session:
            rows = await MovementHistory(session).page(
                reasons or [], since, until, decode_cursor(after), size + 1
            )
        return build_connection(rows, size, lambda m: m.id, LevelMovement.from_domain)
