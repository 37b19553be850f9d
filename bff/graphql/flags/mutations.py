"""Flag mutations (staff)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.flags.service import FlagService
from bff.graphql.flags.types import (
    FeatureFlagSettings,
    FlagUserError,
)
from bff.kernel.auth import Role

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="A flag's settings; the flag is created if it is new.")
class FeatureFlagSetInput:
    key: str = strawberry.field(description="2 to 64 of a-z, 0-9 and _.")
    enabled: bool = strawberry.field(description="The master switch.")
    rollout_percent: int = strawberry.field(default=100, description="0 to 100.")
    cities: list[str] | None = strawberry.field(default=None, description="Null: all cities.")
    description: str | None = strawberry.field(default=None, description="What it gates.")


@strawberry.type(description="Result of `featureFlagSet`.")
class FeatureFlagSetPayload:
    flag: FeatureFlagSettings | None = strawberry.field(description="The flag after the change.")
    user_errors: list[FlagUserError] = strawberry.field(description="Empty on success.")


@strawberry.type
class FlagMutations:
    @strawberry.mutation(description="Staff (role `admin`): create or change a feature flag.")
    async def feature_flag_set(
        self, info: strawberry.Info[Context, None], input: FeatureFlagSetInput
    ) -> FeatureFlagSetPayload:
        context = info.context
        staff = context.require_role(Role.ADMIN)
        async with context.db.unit_of_work() as session:
            flag = await FlagService(session).set(
                input.key,
                enabled=input.enabled,
                rollout_percent=input.rollout_percent,
                cities=input.cities,
                description=input.description,
                actor=staff.subject,
            )
        return FeatureFlagSetPayload(flag=FeatureFlagSettings.from_model(flag), user_errors=[])
