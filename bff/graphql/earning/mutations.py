"""Earning mutations: staff create and change accrual rules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from bff.earning import models
from bff.earning.cashback import CashbackService
from bff.earning.rule_service import RuleDraft, RuleService
from bff.graphql.earning.cashback import CashbackCap
from bff.graphql.earning.types import (
    AccrualRule,
    AccrualRuleKind,
    EarningUserError,
    ExpiryPolicy,
)
from bff.graphql.inputs import (
    Translations,
    describe_changes,
    given_fields,
    translations_change,
    translations_field,
)
from bff.graphql.ledger.types import (
    CurrencyCode,
)
from bff.kernel.auth import Role
from bff.kernel.errors import NotFound
from bff.kernel.global_ids import decode_typed_id

if TYPE_CHECKING:
    from bff.graphql.context import Context

# GraphQL field names -> the rule's column names, where they differ.
_RENAMED = {"percent_basis_points": "percent_bp"}


@strawberry.input(description="A new accrual rule.")
class AccrualRuleCreateInput:
    code: str = strawberry.field(description="2 to 64 of a-z, 0-9, - and _; never changes.")
    title: str = strawberry.field(description="Shown to customers as the entry's reason.")
    currency: CurrencyCode = strawberry.field(description="What it accrues.")
    kind: AccrualRuleKind = strawberry.field(description="How the amount is computed.")
    valid_from: datetime = strawberry.field(description="Orders completed from this time.")
    brand: str | None = strawberry.field(default=None, description="Null: every brand.")
    step_amount: int | None = strawberry.field(default=None, description="Kopecks per step.")
    points_per_step: int | None = strawberry.field(default=None, description="Points per step.")
    percent_basis_points: int | None = strawberry.field(default=None, description="100 = 1 %.")
    level_bonus: bool = strawberry.field(
        default=False,
        description="PERCENT: add the level's bonus and the customer's partner boosts (the "
        "cashback percentage, within its cap).",
    )
    cities: list[str] | None = strawberry.field(default=None, description="Null: every city.")
    valid_to: datetime | None = strawberry.field(default=None, description="Null: open-ended.")
    expiry_policy: ExpiryPolicy = strawberry.field(
        default=ExpiryPolicy.NEVER, description="When its points expire."
    )
    expiry_days: int | None = strawberry.field(default=None, description="With DAYS.")
    flag_key: str | None = strawberry.field(default=None, description="Gate by a flag.")
    active: bool = strawberry.field(default=True, description="Applies to orders.")
    translations: Translations = translations_field()


@strawberry.input(description="Fields to change on a rule; omitted fields stay as they are.")
class AccrualRuleUpdateInput:
    id: strawberry.ID = strawberry.field(description="Global id of the rule.")
    title: str | None = strawberry.UNSET
    brand: str | None = strawberry.UNSET
    step_amount: int | None = strawberry.UNSET
    points_per_step: int | None = strawberry.UNSET
    percent_basis_points: int | None = strawberry.UNSET
    level_bonus: bool | None = strawberry.UNSET
    cities: list[str] | None = strawberry.UNSET
    valid_from: datetime | None = strawberry.UNSET
    valid_to: datetime | None = strawberry.UNSET
    expiry_policy: ExpiryPolicy | None = strawberry.UNSET
    expiry_days: int | None = strawberry.UNSET
    flag_key: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    translations: Translations = translations_change()


describe_changes(AccrualRuleUpdateInput, AccrualRuleCreateInput)


@strawberry.type(description="Result of a rule mutation.")
class AccrualRulePayload:
    rule: AccrualRule | None = strawberry.field(description="The rule after the change.")
    user_errors: list[EarningUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `accrualRuleCreate`.")
class AccrualRuleCreatePayload(AccrualRulePayload):
    pass


@strawberry.type(description="Result of `accrualRuleUpdate`.")
class AccrualRuleUpdatePayload(AccrualRulePayload):
    pass


P = TypeVar("P", bound=AccrualRulePayload)


@strawberry.input(description="The maximum cashback percentage of a brand's orders.")
class CashbackCapSetInput:
    max_percent_basis_points: int = strawberry.field(
        description="1 to 10000 (100 = 1 %): levels and partner products add up to this."
    )
    brand: str | None = strawberry.field(
        default=None, description="The brand; null: every brand without a maximum of its own."
    )


@strawberry.type(description="Result of `cashbackCapSet`.")
class CashbackCapSetPayload:
    cap: CashbackCap | None = strawberry.field(description="The maximum now.")
    user_errors: list[EarningUserError] = strawberry.field(description="Empty on success.")


@strawberry.type
class EarningMutations:
    @strawberry.mutation(
        description="Staff (role `admin`): set the maximum cashback percentage of a brand."
    )
    async def cashback_cap_set(
        self, info: strawberry.Info[Context, None], input: CashbackCapSetInput
    ) -> CashbackCapSetPayload:
        staff = info.context.require_role(Role.ADMIN)
        brand = input.brand.strip()[:64] if input.brand and input.brand.strip() else None
        async with info.context.db.unit_of_work() as session:
            row = await CashbackService(session).set_cap(
                brand, input.max_percent_basis_points, staff.subject
            )
        return CashbackCapSetPayload(cap=CashbackCap.from_model(row), user_errors=[])

    @strawberry.mutation(description="Staff (role `admin`): add an accrual rule.")
    async def accrual_rule_create(
        self, info: strawberry.Info[Context, None], input: AccrualRuleCreateInput
    ) -> AccrualRuleCreatePayload:
        staff = info.context.require_role(Role.ADMIN)
        values = given_fields(input, model=models.AccrualRule, renamed=_RENAMED)
        return await _run(
            info.context,
            lambda s: RuleService(s).create(RuleDraft(**values), staff.subject),
            AccrualRuleCreatePayload,
        )

    @strawberry.mutation(
        description="Staff (role `admin`): change an accrual rule; the change is recorded."
    )
    async def accrual_rule_update(
        self, info: strawberry.Info[Context, None], input: AccrualRuleUpdateInput
    ) -> AccrualRuleUpdatePayload:
        staff = info.context.require_role(Role.ADMIN)
        rule_id = decode_typed_id(input.id, "AccrualRule")
        changes = given_fields(input, model=models.AccrualRule, skip=("id",), renamed=_RENAMED)

        async def update(session: Any) -> Any:
            if rule_id is None:
                raise NotFound(field=("id",))
            return await RuleService(session).update(rule_id, changes, staff.subject)

        return await _run(info.context, update, AccrualRuleUpdatePayload)


async def _run(context: Context, action: Any, payload: type[P]) -> P:
    async with context.db.unit_of_work() as session:
        rule = await action(session)
    return payload(rule=AccrualRule.from_model(rule, context.locale), user_errors=[])
