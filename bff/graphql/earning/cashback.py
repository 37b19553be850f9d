"""The customer's cashback percentage on a brand, its parts and the next step up."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from bff.earning.cashback import CashbackService, ChangeReason, PartKind
from bff.earning.models import CashbackCap as CapRow
from bff.earning.models import CashbackChange as ChangeRow
from bff.graphql.enums import described_enum
from bff.graphql.ids import node_id
from bff.graphql.partners.types import Offer, Partner, offer_view
from bff.partners.boosts import BoostService
from bff.partners.models import Offer as OfferRow

if TYPE_CHECKING:
    from bff.graphql.context import Context

described_enum(
    PartKind,
    "Where a part of the cashback percentage comes from.",
    {
        "BASE": "The brand's percentage rule.",
        "LEVEL": "The customer's level.",
        "PARTNER_BOOST": "A partner product of the customer's, while it is active.",
    },
    name="CashbackPartKind",
)


@strawberry.type(description="One part of the cashback percentage.")
class CashbackPart:
    kind: PartKind = strawberry.field(description="Where it comes from.")
    source: str = strawberry.field(
        description="What gives it, in the request's language: the rule, the level, or the "
        "partner and offer."
    )
    percent: float = strawberry.field(description="Percentage points, e.g. 2.0.")
    until: datetime | None = strawberry.field(description="When it ends; null: it has no end date.")


@strawberry.type(description="The partner product that would raise the percentage most.")
class NextBoost:
    partner: Partner = strawberry.field(description="Whose product it is.")
    offer: Offer = strawberry.field(description="Activate it, then get the product.")
    percent: float = strawberry.field(description="Percentage points it would add.")


@strawberry.type(description="What the customer gets back on a brand's orders, and why.")
class Cashback:
    brand: str = strawberry.field(description="The brand it is for.")
    percent: float = strawberry.field(
        description="The percentage now: the parts added up, what levels and partner "
        "products add limited by the cap."
    )
    cap: float | None = strawberry.field(
        description="The program's maximum for this brand; null: none."
    )
    breakdown: list[CashbackPart] = strawberry.field(description="Its parts.")
    next_boost: NextBoost | None = strawberry.field(
        description='The cheapest next step ("activate the bank\'s card: +2 %"); null: none.'
    )


async def cashback_of(context: Context, customer_id: int, brand: str) -> Cashback:
    async with context.reads.read() as session:
        service = CashbackService(session, context.policies.levels)
        found = await service.of(customer_id, brand)
        sources = await service.sources(found, context.locale)
        suggestion = await BoostService(session).next_boost(customer_id)
    return Cashback(
        brand=brand,
        percent=found.percent_bp / 100,
        cap=found.cap_bp / 100 if found.cap_bp is not None else None,
        breakdown=[
            CashbackPart(
                kind=part.kind,
                source=source,
                percent=part.percent_bp / 100,
                until=part.until,
            )
            for part, source in zip(found.parts, sources, strict=True)
        ],
        next_boost=await _next(context, suggestion) if suggestion else None,
    )


async def _next(context: Context, offer: OfferRow) -> NextBoost:
    partner = await context.loaders.partner_by_id.load(offer.partner_id)
    assert partner is not None
    assert offer.boost_bp is not None
    return NextBoost(
        partner=Partner.from_model(partner, context.locale),
        offer=await offer_view(context, offer),
        percent=offer.boost_bp / 100,
    )


@strawberry.type(description="The program's maximum cashback percentage for a brand.")
class CashbackCap:
    brand: str | None = strawberry.field(description="The brand; null: every brand without one.")
    max_percent_basis_points: int = strawberry.field(description="10000 = 100 %.")
    updated_by: str = strawberry.field(description="The admin who set it.")
    updated_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_model(cls, row: CapRow) -> CashbackCap:
        return cls(
            brand=row.brand,
            max_percent_basis_points=row.max_bp,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )


described_enum(
    ChangeReason,
    "Why a customer's cashback percentage changed.",
    {
        "ORDER": "Their orders lifted their level.",
        "DECAY": "Their level decayed.",
        "PARTNER_BOOST": "A partner reported their product activated or deactivated.",
        "BOOST_EXPIRED": "A partner product's boost ran out of days.",
    },
    name="CashbackChangeReason",
)


@strawberry.type(description="One change of a customer's cashback percentage, for analysts.")
class CashbackChange:
    id: strawberry.ID = strawberry.field(description="Opaque id; changes come in its order.")
    customer_id: strawberry.ID = strawberry.field(description="The customer's global id.")
    brand: str = strawberry.field(description='The brand; "*": rules of every brand.')
    from_percent: float = strawberry.field(description="Before, in percent.")
    to_percent: float = strawberry.field(description="After, in percent.")
    reason: ChangeReason = strawberry.field(description="Why.")
    source: str = strawberry.field(
        description="What caused it: `order:<brand>:<id>`, `partner:<code>:<event id>`, "
        "`decay-round` or `boost-expiry`."
    )
    at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_model(cls, row: ChangeRow) -> CashbackChange:
        return cls(
            id=node_id("CashbackChange", row.id),
            customer_id=node_id("Customer", row.customer_id),
            brand=row.brand,
            from_percent=row.from_bp / 100,
            to_percent=row.to_bp / 100,
            reason=ChangeReason(row.reason),
            source=row.source,
            at=row.created_at,
        )
