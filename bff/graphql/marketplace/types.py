"""GraphQL types of the coin marketplace."""

from __future__ import annotations

import enum
from collections.abc import Hashable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.enums import describe_values, described_enum, error_code_enum
from bff.graphql.errors import BadUserInput, UserError
from bff.graphql.execution import SharedSubtree
from bff.graphql.ids import Node, node_id
from bff.graphql.ledger.types import (
    CurrencyCode,
)
from bff.graphql.links import PICTURE, picture_url
from bff.graphql.money import Money
from bff.graphql.pagination import (
    Connection,
    build_connection,
    decode_cursor,
    page_limit,
    page_size,
)
from bff.graphql.texts import TRANSLATIONS, Translation, translations_of
from bff.kernel.i18n import message
from bff.kernel.texts import Texts, localized
from bff.kernel.types import utcnow
from bff.marketplace import models
from bff.marketplace.errors import MarketplaceErrorCode
from bff.marketplace.repository import MarketplaceRepository
from bff.marketplace.service import (
    GiftUnavailability,
    Unavailability,
    redemption_status,
    unavailability,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context

MAX_PRODUCTS_PER_CATEGORY = 50
MAX_CATEGORIES = 100


# The domain's own enum: its codes are declared once, there.
error_code_enum(MarketplaceErrorCode, "Why a marketplace mutation did not happen.")
described_enum(
    GiftUnavailability,
    "Why a gift cannot be taken now.",
    {
        "WITHDRAWN": "Taken out of the catalogue.",
        "STOPPED": "On the stop-list, everywhere or in the viewer's city.",
    },
)


@strawberry.type(description="A problem with a marketplace mutation.")
class MarketplaceUserError(UserError):
    code: MarketplaceErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.enum(description="Where a redemption stands; it follows its hold.")
class RedemptionStatus(enum.Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


describe_values(
    RedemptionStatus,
    {
        "PENDING": "The coins are held; the order has not confirmed or cancelled it yet.",
        "CONFIRMED": "The order confirmed it: the coins were taken.",
        "CANCELLED": "Cancelled: the coins came back.",
        "EXPIRED": "Nobody confirmed it in time: the coins came back.",
    },
)


@strawberry.type(description="A gift: any product of a category is taken for its price.")
class MarketplaceProduct(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    title: str = strawberry.field(description="Display name, in the request's language.")
    description: str = strawberry.field(description="What it is, in the request's language.")
    picture: strawberry.Private[str | None]
    pk: strawberry.Private[int]
    category_pk: strawberry.Private[int]
    city: strawberry.Private[str | None]
    locale: strawberry.Private[str]
    texts: strawberry.Private[Texts]
    # Judged when the product is built, with its stops loaded for the whole page: plain
    # fields resolve without a coroutine each, which is most of a shelf's cost.
    unavailable: strawberry.Private[Unavailability | None]

    @strawberry.field(
        description="Whether it can be taken now, in the viewer's city; stop-listed products "
        "are shown with `available: false`, not hidden."
    )
    def available(self) -> bool:
        return self.unavailable is None

    @strawberry.field(description="Why not, as a code to switch on; null when available.")
    def unavailable_code(self) -> GiftUnavailability | None:
        return self.unavailable.code if self.unavailable else None

    @strawberry.field(description="Why not, in the request's language; null when available.")
    def unavailable_reason(self) -> str | None:
        return message(self.unavailable.code, self.locale) if self.unavailable else None

    @strawberry.field(
        description="Staff's note on the stop-list entry, in their own words; null when none."
    )
    def stop_note(self) -> str | None:
        return self.unavailable.note if self.unavailable else None

    @strawberry.field(description="When it comes back; null when available or not known.")
    def available_again_at(self) -> datetime | None:
        return self.unavailable.until if self.unavailable else None

    @strawberry.field(description="Its category, which sets the price.")
    async def category(self, info: strawberry.Info[Context, None]) -> MarketplaceCategory:
        category = await info.context.loaders.category_by_id.load(self.category_pk)
        assert category is not None
        return MarketplaceCategory.from_model(category, self.city, self.locale)

    @strawberry.field(description=PICTURE)
    def image_url(self, info: strawberry.Info[Context, None]) -> str | None:
        return picture_url(info.context, self.picture)

    @strawberry.field(description=TRANSLATIONS)
    def translations(self) -> list[Translation]:
        return translations_of(self.texts)

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> MarketplaceProduct | None:
        """Products are public; an inactive one says so in ``unavailableReason``."""
        product = await context.loaders.product_by_id.load(pk)
        if product is None:
            return None
        return await product_view(context, product, await viewer_city(context, None))

    @classmethod
    def from_model(
        cls,
        product: models.Product,
        city: str | None,
        stops: list[models.StopListEntry],
        locale: str,
    ) -> MarketplaceProduct:
        return cls(
            id=node_id("MarketplaceProduct", product.id),
            title=localized(product, "title", locale),
            description=localized(product, "description", locale),
            picture=product.image_url,
            pk=product.id,
            category_pk=product.category_id,
            city=city,
            locale=locale,
            texts=product.texts,
            unavailable=unavailability(product.active, stops, city),
        )


async def viewer_city(context: Context, asked: str | None) -> str | None:
    """The signed-in customer's city (from their latest order), else the one asked for."""
    customer_id = await context.viewer_customer_id()
    if customer_id is not None:
        customer = await context.loaders.customer_by_id.load(customer_id)
        if customer is not None and customer.city:
            return customer.city
    return asked.strip() or None if asked else None


async def product_view(
    context: Context, product: models.Product, city: str | None
) -> MarketplaceProduct:
    """One product as ``city`` sees it (a shelf page builds many at once instead)."""
    stops = await context.loaders.stops_by_product_id.load(product.id)
    return MarketplaceProduct.from_model(product, city, stops, context.locale)


@strawberry.type(description="A shelf of gifts with one price.")
class MarketplaceCategory(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    title: str = strawberry.field(description="Display name, in the request's language.")
    picture: strawberry.Private[str | None]
    price: Money = strawberry.field(description="What any of its products costs.")
    sort_order: int = strawberry.field(description="Shelves are shown by this, ascending.")
    pk: strawberry.Private[int]
    city: strawberry.Private[str | None]
    locale: strawberry.Private[str]
    texts: strawberry.Private[Texts]

    @strawberry.field(
        description="Its products in the catalogue, oldest first.",
        metadata=page_limit(MAX_PRODUCTS_PER_CATEGORY),
    )
    async def products(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[
            int | None,
            strawberry.argument(description=f"Page size, at most {MAX_PRODUCTS_PER_CATEGORY}."),
        ] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[MarketplaceProduct]:
        size = page_size(first, MAX_PRODUCTS_PER_CATEGORY)
        key = (self.pk, size + 1, decode_cursor(after))
        rows = await info.context.loaders.products_by_category.load(key)
        stops = await info.context.loaders.stops_by_product_id.load_many([p.id for p in rows])
        stops_of = dict(zip((p.id for p in rows), stops, strict=True))
        return build_connection(
            rows,
            size,
            lambda p: p.id,
            lambda p: MarketplaceProduct.from_model(p, self.city, stops_of[p.id], self.locale),
        )

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> MarketplaceCategory | None:
        """Categories are public; inactive ones are gone for customers."""
        category = await context.loaders.category_by_id.load(pk)
        if category is None or not category.active:
            return None
        return cls.from_model(category, await viewer_city(context, None), context.locale)

    @strawberry.field(description=PICTURE)
    def image_url(self, info: strawberry.Info[Context, None]) -> str | None:
        return picture_url(info.context, self.picture)

    @strawberry.field(description=TRANSLATIONS)
    def translations(self) -> list[Translation]:
        return translations_of(self.texts)

    @classmethod
    def from_model(
        cls, category: models.Category, city: str | None, locale: str
    ) -> MarketplaceCategory:
        return cls(
            id=node_id("MarketplaceCategory", category.id),
            title=localized(category, "title", locale),
            picture=category.image_url,
            price=Money(amount=category.price, currency=CurrencyCode(category.currency)),
            sort_order=category.sort_order,
            pk=category.id,
            city=city,
            locale=locale,
            texts=category.texts,
        )


@strawberry.type(description="The coin marketplace, as seen from one city.")
class Marketplace(SharedSubtree):
    city: str | None = strawberry.field(
        description="The city availability is judged for: the signed-in customer's, or the "
        "`city` argument; null: only stops that apply everywhere count."
    )
    categories_in_order: strawberry.Private[list[models.Category]]
    locale: strawberry.Private[str]

    def shared_key(self) -> Hashable:
        # Everything below is catalogue rows judged for the city: one completion per city.
        return ("marketplace", self.city)

    @strawberry.field(
        description="Active categories by `sortOrder`.", metadata=page_limit(MAX_CATEGORIES)
    )
    def categories(
        self,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[MarketplaceCategory]:
        rows = self.categories_in_order
        after_id = decode_cursor(after)
        if after_id is not None:
            ids = [row.id for row in rows]
            if after_id not in ids:
                raise BadUserInput("`after` names a category that is not on the shelf any more")
            rows = rows[ids.index(after_id) + 1 :]
        size = page_size(first, MAX_CATEGORIES)
        return build_connection(
            rows[: size + 1],
            size,
            lambda c: c.id,
            lambda c: MarketplaceCategory.from_model(c, self.city, self.locale),
        )


@strawberry.type(description="A gift taken for coins: held until the order confirms it.")
class Redemption(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque global id; the ordering system "
        "confirms or cancels the redemption by it."
    )
    price: Money = strawberry.field(description="What was held.")
    created_at: datetime = strawberry.field(description="When it was taken.")
    pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    hold_pk: strawberry.Private[int]

    @strawberry.field(
        description="PENDING until the order confirms or cancels it; EXPIRED "
        "when nobody did in time (the coins are back)."
    )
    async def status(self, info: strawberry.Info[Context, None]) -> RedemptionStatus:
        hold = await info.context.loaders.hold_by_id.load(self.hold_pk)
        assert hold is not None
        return RedemptionStatus(redemption_status(hold, utcnow()))

    @strawberry.field(description="Until when the order may confirm it.")
    async def expires_at(self, info: strawberry.Info[Context, None]) -> datetime:
        hold = await info.context.loaders.hold_by_id.load(self.hold_pk)
        assert hold is not None
        return hold.expires_at

    @strawberry.field(description="The gift.")
    async def product(self, info: strawberry.Info[Context, None]) -> MarketplaceProduct:
        product = await info.context.loaders.product_by_id.load(self.product_pk)
        assert product is not None
        return await product_view(info.context, product, None)

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> Redemption | None:
        async with context.reads.read() as session:
            redemption = await MarketplaceRepository(session).redemption(pk)
        if redemption and await context.may_see_customer(redemption.customer_id):
            return cls.from_model(redemption)
        return None

    @classmethod
    def from_model(cls, row: models.Redemption) -> Redemption:
        return cls(
            id=node_id("Redemption", row.id),
            price=Money(amount=row.price, currency=CurrencyCode(row.currency)),
            created_at=row.created_at,
            pk=row.id,
            product_pk=row.product_id,
            hold_pk=row.hold_id,
        )
