"""GraphQL types of levels."""

from __future__ import annotations

from datetime import datetime

import strawberry

from bff.graphql.enums import described_enum, error_code_enum
from bff.graphql.errors import UserError
from bff.graphql.ids import ID_DESCRIPTION, key_id, node_id
from bff.graphql.money import Money, money
from bff.levels import models
from bff.levels.errors import LevelErrorCode
from bff.levels.service import Movement, Standing, level_name, perk_title

# The domain's own enum: its codes are declared once, there.
error_code_enum(LevelErrorCode, "Why a level mutation did not happen.")
described_enum(
    models.LevelCode,
    "A level of the program, lowest first; `Level.name` says it in the reader's language.",
    {
        "BRONZE": "Where every customer starts.",
        "SILVER": "The second level.",
        "GOLD": "The third level.",
        "PLATINUM": "The top level.",
    },
)
LevelCode = models.LevelCode


@strawberry.type(description="A problem with a level mutation.")
class LevelUserError(UserError):
    code: LevelErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.type(description="A privilege a level gives.")
class Perk:
    code: str = strawberry.field(
        description="Stable code the ordering system reads, e.g. free_delivery_slot."
    )
    title: str = strawberry.field(description="What it gives, in the request's language.")


@strawberry.type(description="A level of the program and what it gives.")
class Level:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)
    code: LevelCode = strawberry.field(description="Which level.")
    name: str = strawberry.field(description="Name in the request's language.")
    threshold: int = strawberry.field(description="Completed orders needed to reach it.")
    cashback_bonus: int = strawberry.field(
        description="Extra cashback in basis points (100 = +1 %) on percentage rules."
    )
    perks: list[Perk] = strawberry.field(description="What it gives.")
    reward: Money | None = strawberry.field(
        description="Granted once, on first reaching it; null: nothing."
    )
    is_floor: bool = strawberry.field(description="Once reached, the level never decays below it.")

    @classmethod
    def from_model(cls, level: models.Level, locale: str) -> Level:
        return cls(
            id=key_id("Level", level.code),
            code=LevelCode(level.code),
            name=level_name(level, locale),
            threshold=level.threshold,
            cashback_bonus=level.cashback_bonus_bp,
            perks=[Perk(code=code, title=perk_title(code, locale)) for code in level.perks or []],
            reward=money(level.reward_amount, level.reward_currency)
            if level.reward_currency and level.reward_amount
            else None,
            is_floor=level.is_floor,
        )


@strawberry.type(description="How far the customer is on the way up.")
class LevelProgress:
    completed_orders: int = strawberry.field(
        description="Completed orders that count (cancelled ones do not)."
    )
    to_next: int | None = strawberry.field(
        description="Orders still needed for the next level; null at the top."
    )


@strawberry.type(description="The customer's level, the next one, progress and decay.")
class LevelStatus:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)
    current: Level = strawberry.field(description="The level the customer holds.")
    next: Level | None = strawberry.field(description="The next level; null at the top.")
    progress: LevelProgress = strawberry.field(description="Orders done and still needed.")
    decay_at: datetime | None = strawberry.field(
        description="When the level drops one step without a new order; null at a floor."
    )
    can_postpone: bool = strawberry.field(
        description="Whether `levelDecayPostpone` may move the decay by a month now."
    )

    @classmethod
    def from_standing(cls, customer_id: int, standing: Standing, locale: str) -> LevelStatus:
        after = standing.next_level
        return cls(
            id=key_id("LevelStatus", customer_id),
            current=Level.from_model(standing.level, locale),
            next=Level.from_model(after, locale) if after else None,
            progress=LevelProgress(
                completed_orders=standing.completed_orders,
                to_next=max(0, after.threshold - standing.completed_orders) if after else None,
            ),
            decay_at=standing.decay_at,
            can_postpone=standing.can_postpone,
        )


described_enum(
    models.MovementReason,
    "Why a customer's level moved.",
    {
        "ORDER": "Their orders reached the level's threshold.",
        "DECAY": "A decay period passed without an order.",
        "POSTPONEMENT": "They postponed the decay (the level stays; its decay date moves).",
        "RESET": "A gap without orders started their order count again (the level stays).",
        "BACKFILL": "levels-backfill assigned it from the order history.",
    },
    name="LevelMovementReason",
)
LevelMovementReason = models.MovementReason


@strawberry.type(description="One movement of a customer's level, for analysts.")
class LevelMovement:
    id: strawberry.ID = strawberry.field(description="Opaque id; movements come in its order.")
    customer_id: strawberry.ID = strawberry.field(description="The customer's global id.")
    from_level: LevelCode | None = strawberry.field(description="Before; null: none.")
    to_level: LevelCode | None = strawberry.field(description="After; null: none.")
    reason: LevelMovementReason = strawberry.field(description="Why.")
    source: str = strawberry.field(
        description="What caused it: `order:<brand>:<order id>`, `decay-round`, `customer` "
        "or `levels-backfill`."
    )
    at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_domain(cls, found: Movement) -> LevelMovement:
        return cls(
            id=node_id("LevelMovement", found.id),
            customer_id=node_id("Customer", found.customer_id),
            from_level=LevelCode(found.from_level) if found.from_level else None,
            to_level=LevelCode(found.to_level) if found.to_level else None,
            reason=found.reason,
            source=found.source,
            at=found.at,
        )
