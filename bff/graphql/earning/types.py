"""GraphQL types of earning: accrual rules and their history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

import strawberry
from strawberry.scalars import JSON

from bff.earning import models
from bff.earning.errors import EarningErrorCode
from bff.earning.repository import EarningRepository
from bff.earning.service import SetAside
from bff.graphql.enums import described_enum, error_code_enum
from bff.graphql.errors import UserError
from bff.graphql.ids import Node, node_id
from bff.graphql.ledger.types import (
    CurrencyCode,
)
from bff.graphql.money import Money, money
from bff.graphql.texts import TRANSLATIONS, Translation, translations_of
from bff.kernel.auth import Role
from bff.kernel.texts import Texts, localized

if TYPE_CHECKING:
    from bff.graphql.context import Context

described_enum(
    models.RuleKind,
    "How a rule computes what an order earns.",
    {
        "PER_AMOUNT": "Points per full step of the amount (1 coin per 20 rubles).",
        "PERCENT": "Basis points of the amount, plus the level's bonus where the rule says.",
    },
    name="AccrualRuleKind",
)
described_enum(
    models.ExpiryPolicy,
    "When accrued points expire, in the program's time zone.",
    {
        "NEVER": "They do not expire.",
        "DAYS": "After the rule's number of days.",
        "END_OF_MONTH": "At the end of the month they were earned in.",
        "END_OF_YEAR": "At the end of the year they were earned in.",
    },
    name="ExpiryPolicy",
)
AccrualRuleKind = models.RuleKind
ExpiryPolicy = models.ExpiryPolicy


@strawberry.type(
    description="A pending accrual the ledger refused for a reason retrying cannot fix "
    "(its currency switched off, an amount over the posting limit): set aside so that "
    "the rest of the queue goes on. Cancelling or refunding its order still applies."
)
class SetAsideAccrual:
    id: strawberry.ID = strawberry.field(description="Opaque id of the pending accrual.")
    customer_id: strawberry.ID = strawberry.field(
        description="The customer's global id (use with `node`)."
    )
    brand: str = strawberry.field(description="The order's brand.")
    order_id: str = strawberry.field(description="The order's id in the ordering system.")
    currency: CurrencyCode = strawberry.field(description="What it would accrue.")
    amount: Money = strawberry.field(description="How much it would accrue.")
    reason: str = strawberry.field(description="The rule's title, as customers would see it.")
    failure: str = strawberry.field(description="The ledger's error code and message.")
    set_aside_at: datetime = strawberry.field(description="When the worker set it aside.")

    @classmethod
    def from_domain(cls, row: SetAside) -> SetAsideAccrual:
        return cls(
            id=node_id("PendingAccrual", row.id),
            customer_id=node_id("Customer", row.customer_id),
            brand=row.brand,
            order_id=row.order_external_id,
            currency=cast(CurrencyCode, row.currency),
            amount=money(row.amount, row.currency),
            reason=row.reason,
            failure=row.failure,
            set_aside_at=row.set_aside_at,
        )


# The domain's own enum: its codes are declared once, there.
error_code_enum(EarningErrorCode, "Why a rule mutation did not happen.")


@strawberry.type(description="A problem with a rule mutation.")
class EarningUserError(UserError):
    code: EarningErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.type(description="One recorded change of a rule.")
class AccrualRuleChange:
    actor: str = strawberry.field(description="The staff member who made it.")
    action: str = strawberry.field(description="`created` or `updated`.")
    before: JSON | None = strawberry.field(description="The rule's fields before.")
    after: JSON = strawberry.field(description="The rule's fields after.")
    changed_at: datetime = strawberry.field(description="When.")


@strawberry.type(description="How orders earn points; several rules may apply to one order.")
class AccrualRule(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    code: str = strawberry.field(description="Stable code; accrual entries name their rule.")
    title: str = strawberry.field(
        description="Shown to customers as the entry's reason, in the request's language."
    )
    currency: CurrencyCode = strawberry.field(description="What it accrues.")
    brand: str | None = strawberry.field(description="Only this brand's orders; null: all.")
    kind: AccrualRuleKind = strawberry.field(description="How the amount is computed.")
    step_amount: int | None = strawberry.field(description="PER_AMOUNT: kopecks per step.")
    points_per_step: int | None = strawberry.field(description="PER_AMOUNT: points per step.")
    percent_basis_points: int | None = strawberry.field(description="PERCENT: 100 = 1 %.")
    level_bonus: bool = strawberry.field(
        description="PERCENT: add the level's bonus and the customer's partner boosts."
    )
    cities: list[str] | None = strawberry.field(description="Only these cities; null: all.")
    valid_from: datetime = strawberry.field(description="Orders completed from this time.")
    valid_to: datetime | None = strawberry.field(description="...and before this; null: open.")
    expiry_policy: ExpiryPolicy = strawberry.field(description="When its points expire.")
    expiry_days: int | None = strawberry.field(description="DAYS: how many.")
    flag_key: str | None = strawberry.field(description="Applies only where this flag is on.")
    active: bool = strawberry.field(description="Switched off rules apply to nothing.")
    pk: strawberry.Private[int]
    texts: strawberry.Private[Texts]

    @strawberry.field(description=TRANSLATIONS)
    def translations(self) -> list[Translation]:
        return translations_of(self.texts)

    @strawberry.field(description="Every recorded change, oldest first.")
    async def changes(self, info: strawberry.Info[Context, None]) -> list[AccrualRuleChange]:
        async with info.context.reads.read() as session:
            rows = await EarningRepository(session).rule_changes(self.pk)
        return [
            AccrualRuleChange(
                actor=r.actor,
                action=r.action,
                before=cast(JSON, r.before),
                after=cast(JSON, r.after),
                changed_at=r.changed_at,
            )
            for r in rows
        ]

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> AccrualRule | None:
        """Rules are admin's, as `accrualRules` lists them."""
        if not context.is_staff_with(Role.ADMIN):
            return None
        async with context.reads.read() as session:
            rule = await EarningRepository(session).rule(pk)
        return cls.from_model(rule, context.locale) if rule is not None else None

    @classmethod
    def from_model(cls, rule: models.AccrualRule, locale: str) -> AccrualRule:
        return cls(
            id=node_id("AccrualRule", rule.id),
            code=rule.code,
            title=localized(rule, "title", locale),
            texts=rule.texts,
            currency=CurrencyCode(rule.currency),
            brand=rule.brand,
            kind=AccrualRuleKind(rule.kind),
            step_amount=rule.step_amount,
            points_per_step=rule.points_per_step,
            percent_basis_points=rule.percent_bp,
            level_bonus=rule.level_bonus,
            cities=rule.cities,
            valid_from=rule.valid_from,
            valid_to=rule.valid_to,
            expiry_policy=ExpiryPolicy(rule.expiry_policy),
            expiry_days=rule.expiry_days,
            flag_key=rule.flag_key,
            active=rule.active,
            pk=rule.id,
        )
