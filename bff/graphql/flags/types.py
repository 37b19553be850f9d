"""GraphQL types of feature flags."""

from __future__ import annotations

from datetime import datetime

import strawberry

from bff.flags import models
from bff.flags.errors import FlagErrorCode
from bff.graphql.enums import error_code_enum
from bff.graphql.errors import UserError

# The domain's own enum: its codes are declared once, there.
error_code_enum(FlagErrorCode, "Why a flag mutation did not happen.")


@strawberry.type(description="A problem with a flag mutation.")
class FlagUserError(UserError):
    code: FlagErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.type(description="A feature flag as it applies to the viewer.")
class FeatureFlag:
    key: str = strawberry.field(description="The flag's key, e.g. `new_cashback`.")
    enabled: bool = strawberry.field(
        description="On for this customer (rollout, city and switch all agree)."
    )


@strawberry.type(description="A flag's full settings, for staff.")
class FeatureFlagSettings:
    key: str = strawberry.field(description="The flag's key.")
    description: str = strawberry.field(description="What the flag gates.")
    enabled: bool = strawberry.field(description="The master switch.")
    rollout_percent: int = strawberry.field(
        description="Share of customers who get it, 0 to 100; stable per customer."
    )
    cities: list[str] | None = strawberry.field(description="Only these cities; null: all.")
    updated_by: str | None = strawberry.field(description="Who changed it last.")
    updated_at: datetime = strawberry.field(description="When it changed last.")

    @classmethod
    def from_model(cls, flag: models.FeatureFlag) -> FeatureFlagSettings:
        return cls(
            key=flag.key,
            description=flag.description,
            enabled=flag.enabled,
            rollout_percent=flag.rollout_percent,
            cities=flag.cities,
            updated_by=flag.updated_by,
            updated_at=flag.updated_at,
        )
