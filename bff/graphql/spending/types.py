"""GraphQL types of spending: rules, their history, and what may pay an order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

import strawberry
from strawberry.scalars import JSON

from bff.graphql.enums import described_enum, error_code_enum
from bff.graphql.errors import UserError
from bff.graphql.ids import node_id
from bff.graphql.ledger.types import CurrencyCode
from bff.graphql.levels.types import LevelCode
from bff.graphql.money import Money, Rubles, money
from bff.spending import models
from bff.spending.errors import SpendingErrorCode
from bff.spending.service import Limit, Spendable, SpendingService

if TYPE_CHECKING:
    from bff.graphql.context import Context

# The domain's own enums: declared once, there.
error_code_enum(SpendingErrorCode, "Why a spending rule mutation did not happen.")
described_enum(
    Limit,
    "What decided how many points may pay.",
    {
        "BALANCE": "No more points are available.",
        "SHARE": "The rule's share of the order.",
        "LEVEL_PERK": "The customer's level allows a share of its own.",
        "MONEY_MINIMUM": "The part of the order that must be paid in money.",
        "NO_RULE": "Points do not pay here.",
    },
    name="SpendLimit",
)


@strawberry.type(description="A problem with a spending rule mutation.")
class SpendingUserError(UserError):
    code: SpendingErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.type(description="The share of an order a level may pay with points instead.")
class LevelShare:
    level: LevelCode = strawberry.field(description="Which level.")
    share_basis_points: int = strawberry.field(description="10000: the whole order.")


@strawberry.type(description="One recorded change of a spending rule.")
class SpendingRuleChange:
    actor: str = strawberry.field(description="The staff member who made it.")
    before: JSON | None = strawberry.field(description="The rule before; null when created.")
    after: JSON = strawberry.field(description="The rule after.")
    changed_at: datetime = strawberry.field(description="When.")


@strawberry.type(
    description="How much of an order a currency may pay, for one brand or for every brand "
    "without a rule of its own, and what one point is worth."
)
class SpendingRule:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    currency: CurrencyCode = strawberry.field(description="What pays.")
    brand: str | None = strawberry.field(description="Null: every brand without its own rule.")
    point_value: Rubles = strawberry.field(description="What one point pays.")
    max_share_basis_points: int = strawberry.field(
        description="The largest share of an order points may pay (3000 = 30 %)."
    )
    min_money: Rubles = strawberry.field(description="The least left to pay in money.")
    level_shares: list[LevelShare] = strawberry.field(
        description="Levels that may pay a share of their own instead."
    )
    active: bool = strawberry.field(description="Switched off: points pay nothing here.")
    pk: strawberry.Private[int]

    @strawberry.field(description="Every recorded change, oldest first.")
    async def changes(self, info: strawberry.Info[Context, None]) -> list[SpendingRuleChange]:
        async with info.context.reads.read() as session:
            rows = await SpendingService(session).changes(self.pk)
        return [
            SpendingRuleChange(
                actor=row.actor,
                before=cast(JSON, row.before),
                after=cast(JSON, row.after),
                changed_at=row.changed_at,
            )
            for row in rows
        ]

    @classmethod
    def from_model(cls, rule: models.SpendingRule) -> SpendingRule:
        return cls(
            id=node_id("SpendingRule", rule.id),
            currency=CurrencyCode(rule.currency),
            brand=rule.brand,
            point_value=Rubles(kopecks=rule.kopecks_per_point),
            max_share_basis_points=rule.max_share_bp,
            min_money=Rubles(kopecks=rule.min_money_kopecks),
            level_shares=[
                LevelShare(level=LevelCode(level), share_basis_points=int(share))
                for level, share in sorted((rule.level_shares or {}).items())
            ],
            active=rule.active,
            pk=rule.id,
        )


@strawberry.type(
    description="What the app shows at a till, as a QR code: it names the customer for a "
    "minute and pays once. Ask for a new one each time it is shown."
)
class CheckoutCode:
    code: str = strawberry.field(description="The code; opaque.")
    expires_at: datetime = strawberry.field(description="Until when a till takes it.")


@strawberry.type(description="How many points may pay an order, and why that many.")
class SpendablePoints:
    points: Money = strawberry.field(description="At most this many points.")
    value: Rubles = strawberry.field(description="What they pay.")
    reason: Limit = strawberry.field(description="What decided it.")

    @classmethod
    def from_domain(cls, found: Spendable, currency: str) -> SpendablePoints:
        return cls(
            points=money(found.points, currency),
            value=Rubles(kopecks=found.value_kopecks),
            reason=found.limit,
        )
