"""Spending mutations: staff set the spending rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.ledger.types import CurrencyCode
from bff.graphql.levels.types import LevelCode
from bff.graphql.spending.types import SpendingRule, SpendingUserError
from bff.kernel.auth import Role
from bff.spending.service import SpendingRuleDraft, SpendingService

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="The share of an order a level may pay with points instead.")
class LevelShareInput:
    level: LevelCode = strawberry.field(description="Which level.")
    share_basis_points: int = strawberry.field(description="0 to 10000 (the whole order).")


@strawberry.input(description="The spending rule of a currency and brand, whole.")
class SpendingRuleSetInput:
    currency: CurrencyCode = strawberry.field(description="What pays.")
    kopecks_per_point: int = strawberry.field(description="What one point pays, in kopecks.")
    max_share_basis_points: int = strawberry.field(description="0 to 10000 of the order.")
    brand: str | None = strawberry.field(default=None, description="Null: every brand.")
    min_money_kopecks: int = strawberry.field(default=0, description="Least paid in money.")
    level_shares: list[LevelShareInput] = strawberry.field(
        default_factory=list, description="Levels with a share of their own."
    )
    active: bool = strawberry.field(default=True, description="False: points pay nothing.")


@strawberry.type(description="Result of a spending rule mutation.")
class SpendingRuleSetPayload:
    rule: SpendingRule | None = strawberry.field(description="The rule after the change.")
    user_errors: list[SpendingUserError] = strawberry.field(description="Empty on success.")


@strawberry.type
class SpendingMutations:
    @strawberry.mutation(
        description="Staff (role `admin`): create or replace the spending rule of a currency "
        "and brand; the change is recorded with its author."
    )
    async def spending_rule_set(
        self, info: strawberry.Info[Context, None], input: SpendingRuleSetInput
    ) -> SpendingRuleSetPayload:
        staff = info.context.require_role(Role.ADMIN)
        draft = SpendingRuleDraft(
            currency=input.currency.value,
            kopecks_per_point=input.kopecks_per_point,
            max_share_bp=input.max_share_basis_points,
            brand=input.brand,
            min_money_kopecks=input.min_money_kopecks,
            level_shares={s.level.value: s.share_basis_points for s in input.level_shares},
            active=input.active,
        )
        async with info.context.db.unit_of_work() as session:
            rule = await SpendingService(session).set_rule(draft, staff.subject)
        return SpendingRuleSetPayload(rule=SpendingRule.from_model(rule), user_errors=[])
