"""Flag queries: the native shell asks which features it may show."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.flags.service import is_on
from bff.graphql.flags.types import (
    FeatureFlag,
    FeatureFlagSettings,
)
from bff.kernel.auth import Role

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class FlagQueries:
    @strawberry.field(
        description="Every flag, on or off for the viewer; anonymous visitors get only the "
        "flags that are on for everyone."
    )
    async def feature_flags(self, info: strawberry.Info[Context, None]) -> list[FeatureFlag]:
        return await viewer_flags(info.context)

    @strawberry.field(description="Staff (role `marketing`): every flag's settings.")
    async def feature_flag_settings(
        self, info: strawberry.Info[Context, None]
    ) -> list[FeatureFlagSettings]:
        info.context.require_role(Role.MARKETING)
        flags = await info.context.loaders.flags.load(None)
        return [FeatureFlagSettings.from_model(flag) for flag in flags]


async def viewer_flags(context: Context) -> list[FeatureFlag]:
    flags = await context.loaders.flags.load(None)
    subject, city = None, None
    customer_id = await context.viewer_customer_id()
    if customer_id is not None:
        customer = await context.loaders.customer_by_id.load(customer_id)
        subject, city = (customer.external_id, customer.city) if customer else (None, None)
    return [FeatureFlag(key=flag.key, enabled=is_on(flag, subject, city)) for flag in flags]
