"""Level mutations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.levels.types import (
    LevelStatus,
    LevelUserError,
)
from bff.levels.service import LevelService

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type(description="Result of `levelDecayPostpone`.")
class LevelDecayPostponePayload:
    level: LevelStatus | None = strawberry.field(description="The level with its new decay date.")
    user_errors: list[LevelUserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


@strawberry.type
class LevelMutations:
    @strawberry.mutation(
        description="The signed-in customer moves their level's decay by a month, once per "
        "level period."
    )
    async def level_decay_postpone(
        self, info: strawberry.Info[Context, None]
    ) -> LevelDecayPostponePayload:
        context = info.context
        customer_id = await context.require_customer()
        policy = context.policies.levels
        async with context.db.unit_of_work() as session:
            standing = await LevelService(session, policy).postpone(customer_id)
        return LevelDecayPostponePayload(
            level=LevelStatus.from_standing(customer_id, standing, context.locale), user_errors=[]
        )
