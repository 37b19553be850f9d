"""GraphQL types of partners and offers."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Hashable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.enums import described_enum, error_code_enum
from bff.graphql.errors import UserError
from bff.graphql.execution import VIEWER
from bff.graphql.futures import answered, mapped
from bff.graphql.ids import ID_DESCRIPTION, Node, node_id
from bff.graphql.ledger.types import (
    CurrencyCode,
)
from bff.graphql.links import PICTURE, picture_url
from bff.graphql.money import Money, Rubles, money_or_none, rubles_or_none
from bff.graphql.pagination import Connection, build_connection, decode_cursor, page_size
from bff.graphql.texts import TRANSLATIONS, Translation, translations_of
from bff.kernel.auth import Role
from bff.kernel.i18n import message
from bff.kernel.texts import Texts, localized
from bff.kernel.types import utcnow
from bff.partners import models
from bff.partners.errors import PartnerErrorCode
from bff.partners.repository import PartnerRepository
from bff.partners.service import availability, is_published

if TYPE_CHECKING:
    from bff.graphql.context import Context

described_enum(
    models.RewardKind,
    "What completing an offer earns.",
    {
        "FIXED": "The offer's points, per completion.",
        "PERCENT": "Basis points of the amount the partner reports, up to the cap.",
    },
    name="OfferRewardKind",
)
OfferRewardKind = models.RewardKind

described_enum(
    models.PartnerCategory,
    "What kind of business a partner is; `categoryName` says it in the reader's language.",
    {
        category.name: message(f"PARTNER_CATEGORY_{category.name}", "en")
        for category in models.PartnerCategory
    },
)
PartnerCategory = models.PartnerCategory


# The domain's own enum: its codes are declared once, there.
error_code_enum(PartnerErrorCode, "Why a partner or offer mutation did not happen.")


@strawberry.type(description="A problem with a partner or offer mutation.")
class PartnerUserError(UserError):
    code: PartnerErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.type(description="What completing an offer earns.")
class OfferReward:
    kind: OfferRewardKind = strawberry.field(description="Fixed points or a percentage.")
    currency: CurrencyCode = strawberry.field(description="What is accrued.")
    points: Money | None = strawberry.field(description="FIXED: what one completion earns.")
    percent_basis_points: int | None = strawberry.field(description="PERCENT: 100 = 1 %.")
    cap: Money | None = strawberry.field(description="PERCENT: the most one completion earns.")


@strawberry.type(description="A partner product's raise of the cashback percentage.")
class CashbackBoost:
    percent: float = strawberry.field(description="Percentage points added, e.g. 2.0.")
    days: int | None = strawberry.field(
        description="How long after the product's activation; null: while it is active."
    )


@strawberry.type(description="The viewer's activation of an offer.")
class OfferActivation:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)
    active: bool = strawberry.field(description="Partner events accrue only while active.")
    completions: int = strawberry.field(description="Completions rewarded so far.")
    activated_at: datetime = strawberry.field(description="When it was (last) activated.")

    @classmethod
    def from_model(cls, row: models.OfferActivation) -> OfferActivation:
        return cls(
            id=node_id("OfferActivation", row.id),
            active=row.active,
            completions=row.completions,
            activated_at=row.activated_at,
        )


class OfferUnavailability(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    EXPIRED = "EXPIRED"
    EXHAUSTED = "EXHAUSTED"
    INACTIVE = "INACTIVE"


# The offer rules' own codes, as a closed set for clients to switch on.
UNAVAILABLE = {
    OfferUnavailability.NOT_STARTED: PartnerErrorCode.OFFER_NOT_STARTED,
    OfferUnavailability.EXPIRED: PartnerErrorCode.OFFER_EXPIRED,
    OfferUnavailability.EXHAUSTED: PartnerErrorCode.OFFER_EXHAUSTED,
    OfferUnavailability.INACTIVE: PartnerErrorCode.OFFER_INACTIVE,
}
described_enum(
    OfferUnavailability,
    "Why an offer cannot be activated now.",
    {
        "NOT_STARTED": "Its window has not opened yet.",
        "EXPIRED": "Its window has closed.",
        "EXHAUSTED": "Its budget of points is spent.",
        "INACTIVE": "Marketing turned it off.",
    },
)


_BY_CODE = {code: reason for reason, code in UNAVAILABLE.items()}


def _unavailability(code: PartnerErrorCode | None) -> OfferUnavailability | None:
    return _BY_CODE.get(code) if code is not None else None


@strawberry.type(description="A partner's offer: activate it, do the action, get points.")
class Offer(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    title: str = strawberry.field(description="Short title, in the request's language.")
    description: str = strawberry.field(description="What to do, in the request's language.")
    terms: str = strawberry.field(description="The fine print, in the request's language.")
    reward: OfferReward = strawberry.field(description="What completing it earns.")
    valid_from: datetime = strawberry.field(description="Open from.")
    valid_to: datetime | None = strawberry.field(description="Open until; null: no end.")
    per_customer_limit: int | None = strawberry.field(
        description="Completions rewarded per customer; null: no limit."
    )
    cashback_boost: CashbackBoost | None = strawberry.field(
        description="What the partner's product adds to the customer's cashback percentage "
        "while it is active; null: this offer raises no percentage."
    )
    unavailable_code: OfferUnavailability | None = strawberry.field(
        description="Null when it can be activated now; else why not."
    )
    # Loaded with the page (offer_views), so a plain field: a coroutine per field was
    # most of the cost of an offer list.
    partner: Partner = strawberry.field(description="The partner running it.")
    pk: strawberry.Private[int]
    texts: strawberry.Private[Texts]

    @strawberry.field(description=TRANSLATIONS)
    def translations(self) -> list[Translation]:
        return translations_of(self.texts)

    @strawberry.field(
        description="Why it cannot be activated now, in the request's language; null when it can.",
        metadata={VIEWER: True},  # words of the viewer's language, in a page shared by all
    )
    def unavailable_reason(self, info: strawberry.Info[Context, None]) -> str | None:
        code = self.unavailable_code
        return message(UNAVAILABLE[code], info.context.locale) if code else None

    @strawberry.field(
        description="The viewer's activation; null when never activated.",
        metadata={VIEWER: True},  # a shared page of offers leaves it to each request
        graphql_type=OfferActivation | None,
    )
    def activation(self, info: strawberry.Info[Context, None]) -> Awaitable[OfferActivation | None]:
        # Not async: the load is asked for when the field is resolved, so all the holes of
        # a page fall into one batch without a task each (bff.graphql.execution).
        return activation_view(info.context, self.pk)

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> Offer | None:
        """Published offers are public catalogue objects; marketing staff see them all."""
        async with context.reads.read() as session:
            offer = await PartnerRepository(session).offer(pk)
        if offer is None:
            return None
        if not is_published(offer, utcnow()) and not context.is_staff_with(Role.MARKETING):
            return None
        # Outside the read: the view's loaders take their turn on the same session.
        return await offer_view(context, offer)

    @classmethod
    def from_model(cls, offer: models.Offer, partner: models.Partner, locale: str) -> Offer:
        return cls(
            id=node_id("Offer", offer.id),
            title=localized(offer, "title", locale),
            description=localized(offer, "description", locale),
            terms=localized(offer, "terms", locale),
            reward=OfferReward(
                kind=OfferRewardKind(offer.reward_kind),
                currency=CurrencyCode(offer.currency),
                points=money_or_none(offer.reward_points, offer.currency),
                percent_basis_points=offer.reward_percent_bp,
                cap=money_or_none(offer.reward_cap, offer.currency),
            ),
            valid_from=offer.valid_from,
            valid_to=offer.valid_to,
            per_customer_limit=offer.per_customer_limit,
            cashback_boost=CashbackBoost(percent=offer.boost_bp / 100, days=offer.boost_days)
            if offer.boost_bp
            else None,
            unavailable_code=_unavailability(availability(offer, utcnow())),
            partner=Partner.from_model(partner, locale),
            pk=offer.id,
            texts=offer.texts,
        )


def activation_view(context: Context, offer_pk: int) -> Awaitable[OfferActivation | None]:
    """The viewer's activation of an offer, as soon as the viewer is known."""
    known, customer_id = context.known_viewer_customer_id()
    if not known:
        return _activation_once_viewer_known(context, offer_pk)
    if customer_id is None:
        return answered(None)
    loaded = context.loaders.activation_by_customer_offer.load((customer_id, offer_pk))
    return mapped(loaded, lambda row: OfferActivation.from_model(row) if row else None)


async def _activation_once_viewer_known(context: Context, offer_pk: int) -> OfferActivation | None:
    await context.viewer_customer_id()
    return await activation_view(context, offer_pk)


async def offer_views(context: Context, rows: Sequence[models.Offer]) -> list[Offer]:
    """Offers with their partners, loaded for all at once."""
    partners = await context.loaders.partner_by_id.load_many([row.partner_id for row in rows])
    views = []
    for row, partner in zip(rows, partners, strict=True):
        assert partner is not None
        views.append(Offer.from_model(row, partner, context.locale))
    return views


async def offer_view(context: Context, row: models.Offer) -> Offer:
    return (await offer_views(context, [row]))[0]


async def offer_connection(
    context: Context, rows: Sequence[models.Offer], size: int, shared: Hashable | None
) -> Connection[Offer]:
    """A page of offers from up to ``size + 1`` rows (the extra one says more follow).

    ``shared`` names what catalogue rows were read by (arguments, partner): the completed
    page is shared by every request with that key, each filling in its own activations
    (bff.graphql.execution). None for a list that is the viewer's own.
    """
    page = await offer_views(context, rows[:size])
    views = {view.pk: view for view in page}
    connection = build_connection(rows, size, lambda o: o.id, lambda o: views[o.id])
    connection.shared = shared
    return connection


@strawberry.type(description="A company in the program: points are earned and spent there.")
class Partner(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    code: str = strawberry.field(description="Stable code, used in the partner API's URLs.")
    name: str = strawberry.field(description="Display name, in the request's language.")
    category: PartnerCategory = strawberry.field(description="What kind of business it is.")
    category_name: str = strawberry.field(description="The category, in the request's language.")
    logo: strawberry.Private[str | None]
    description: str = strawberry.field(description="About the partner, in the request's language.")
    point_value: Rubles | None = strawberry.field(
        description="What one point is worth there when paying with points; null: not accepted."
    )
    pk: strawberry.Private[int]
    texts: strawberry.Private[Texts]

    @strawberry.field(description="The partner's offers open now, oldest first.")
    async def offers(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[Offer]:
        size = page_size(first, info.context.settings.max_page_size)
        async with info.context.reads.read() as session:
            rows = await PartnerRepository(session).offers_page(
                after_id=decode_cursor(after),
                limit=size + 1,
                partner_code=self.code,
                category=None,
                active_at=utcnow(),
            )
        key = ("partner offers", info.context.locale, self.pk, after, size)
        return await offer_connection(info.context, rows, size, key)

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> Partner | None:
        """Partners are public catalogue objects."""
        async with context.reads.read() as session:
            partners = await PartnerRepository(session).partners_by_ids([pk])
        return cls.from_model(partners[0], context.locale) if partners else None

    @strawberry.field(description=PICTURE.replace("picture", "logo", 1))
    def logo_url(self, info: strawberry.Info[Context, None]) -> str | None:
        return picture_url(info.context, self.logo)

    @strawberry.field(description=TRANSLATIONS)
    def translations(self) -> list[Translation]:
        return translations_of(self.texts)

    @classmethod
    def from_model(cls, partner: models.Partner, locale: str) -> Partner:
        category = PartnerCategory.of(partner.category)
        return cls(
            id=node_id("Partner", partner.id),
            code=partner.code,
            name=localized(partner, "name", locale),
            category=category,
            category_name=message(f"PARTNER_CATEGORY_{category.name}", locale),
            logo=partner.logo_url,
            description=localized(partner, "description", locale),
            point_value=rubles_or_none(partner.kopecks_per_point),
            pk=partner.id,
            texts=partner.texts,
        )
