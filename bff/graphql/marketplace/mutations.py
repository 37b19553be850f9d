"""Marketplace mutations: customers redeem coins; staff keep the shelf and the stop-list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from bff.graphql.inputs import (
    Translations,
    describe_changes,
    given_fields,
    translations_change,
    translations_field,
)
from bff.graphql.ledger.types import (
    CurrencyCode,
    Wallet,
)
from bff.graphql.marketplace.types import (
    MarketplaceCategory,
    MarketplaceProduct,
    MarketplaceUserError,
    Redemption,
    product_view,
    viewer_city,
)
from bff.kernel.auth import Role
from bff.kernel.errors import NotFound
from bff.kernel.global_ids import decode_typed_id
from bff.marketplace.service import (
    CatalogueService,
    CategoryDraft,
    ProductDraft,
    RedemptionService,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="Take a gift for coins.")
class MarketplaceRedeemInput:
    product_id: strawberry.ID = strawberry.field(description="Global id of the product.")
    idempotency_key: str = strawberry.field(
        description="Unique per attempt (e.g. a UUID); retrying with it never charges twice."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The wallet `version` the price was shown against: if anything was "
        "posted since, nothing is held and VERSION_CONFLICT comes back.",
    )


@strawberry.type(description="Result of `marketplaceRedeem`.")
class MarketplaceRedeemPayload:
    redemption: Redemption | None = strawberry.field(description="The redemption, PENDING.")
    wallet: Wallet | None = strawberry.field(description="The wallet after the hold.")
    user_errors: list[MarketplaceUserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A new gift category.")
class MarketplaceCategoryCreateInput:
    title: str = strawberry.field(description="Display name.")
    price: int = strawberry.field(description="What any of its products costs.")
    currency: CurrencyCode = strawberry.field(default=CurrencyCode.COINS, description="Paid in.")
    image_url: str | None = strawberry.field(
        default=None, description="HTTPS URL, or a file of this service (/webviews/static/...)."
    )
    sort_order: int = strawberry.field(default=0, description="Shelf position, ascending.")
    translations: Translations = translations_field()


@strawberry.input(description="Category fields to change; omitted fields stay.")
class MarketplaceCategoryUpdateInput:
    id: strawberry.ID = strawberry.field(description="Global id of the category.")
    title: str | None = strawberry.UNSET
    price: int | None = strawberry.UNSET
    image_url: str | None = strawberry.UNSET
    sort_order: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    translations: Translations = translations_change()


describe_changes(MarketplaceCategoryUpdateInput, MarketplaceCategoryCreateInput)


@strawberry.type(description="Result of a category mutation.")
class MarketplaceCategoryPayload:
    category: MarketplaceCategory | None = strawberry.field(description="The category now.")
    user_errors: list[MarketplaceUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `marketplaceCategoryCreate`.")
class MarketplaceCategoryCreatePayload(MarketplaceCategoryPayload):
    pass


@strawberry.type(description="Result of `marketplaceCategoryUpdate`.")
class MarketplaceCategoryUpdatePayload(MarketplaceCategoryPayload):
    pass


@strawberry.input(description="A new product in a category.")
class MarketplaceProductCreateInput:
    category_id: strawberry.ID = strawberry.field(description="Global id of its category.")
    title: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(default="", description="What it is.")
    image_url: str | None = strawberry.field(
        default=None, description="HTTPS URL, or a file of this service (/webviews/static/...)."
    )
    translations: Translations = translations_field()


@strawberry.input(description="Product fields to change; omitted fields stay.")
class MarketplaceProductUpdateInput:
    id: strawberry.ID = strawberry.field(description="Global id of the product.")
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    image_url: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    translations: Translations = translations_change()


describe_changes(MarketplaceProductUpdateInput, MarketplaceProductCreateInput)


@strawberry.input(description="Take a product off, in one city or everywhere.")
class MarketplaceStopListSetInput:
    product_id: strawberry.ID = strawberry.field(description="Global id of the product.")
    reason: str = strawberry.field(description="Shown to customers, e.g. 'Out of stock'.")
    city: str | None = strawberry.field(default=None, description="Null: everywhere.")
    until: datetime | None = strawberry.field(
        default=None, description="When it comes back by itself; null: until lifted."
    )


@strawberry.input(description="Put a product back, in one city or everywhere.")
class MarketplaceStopListLiftInput:
    product_id: strawberry.ID = strawberry.field(description="Global id of the product.")
    city: str | None = strawberry.field(default=None, description="Null: the everywhere stop.")


@strawberry.type(description="Result of a product or stop-list mutation.")
class MarketplaceProductPayload:
    product: MarketplaceProduct | None = strawberry.field(description="The product now.")
    user_errors: list[MarketplaceUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `marketplaceProductCreate`.")
class MarketplaceProductCreatePayload(MarketplaceProductPayload):
    pass


@strawberry.type(description="Result of `marketplaceProductUpdate`.")
class MarketplaceProductUpdatePayload(MarketplaceProductPayload):
    pass


@strawberry.type(description="Result of `marketplaceStopListSet`.")
class MarketplaceStopListSetPayload(MarketplaceProductPayload):
    pass


@strawberry.type(description="Result of `marketplaceStopListLift`.")
class MarketplaceStopListLiftPayload(MarketplaceProductPayload):
    pass


def _pk(global_id: str, type_name: str, field: str) -> int:
    pk = decode_typed_id(global_id, type_name)
    if pk is None:
        raise NotFound(field=(field,))
    return pk


@strawberry.type
class MarketplaceMutations:
    @strawberry.mutation(
        description="The signed-in customer takes a gift: its category's price is held "
        "until the order confirms or cancels it, or the hold expires."
    )
    async def marketplace_redeem(
        self, info: strawberry.Info[Context, None], input: MarketplaceRedeemInput
    ) -> MarketplaceRedeemPayload:
        context = info.context
        customer_id = await context.require_customer()
        city = await viewer_city(context, None)
        ttl = timedelta(seconds=context.settings.redemption_hold_seconds)
        product_id = _pk(input.product_id, "MarketplaceProduct", "productId")
        async with context.db.unit_of_work() as session:
            redeemed = await RedemptionService(session, ttl).redeem(
                customer_id,
                product_id,
                key=input.idempotency_key,
                expected_version=input.expected_version,
                city=city,
            )
        return MarketplaceRedeemPayload(
            redemption=Redemption.from_model(redeemed.redemption),
            wallet=Wallet.from_model(redeemed.wallet),
            user_errors=[],
        )

    @strawberry.mutation(description="Staff (role `admin`): add a gift category.")
    async def marketplace_category_create(
        self, info: strawberry.Info[Context, None], input: MarketplaceCategoryCreateInput
    ) -> MarketplaceCategoryCreatePayload:
        info.context.require_role(Role.ADMIN)
        draft = CategoryDraft(**given_fields(input))
        return await _category(
            info.context, lambda s: s.create_category(draft), MarketplaceCategoryCreatePayload
        )

    @strawberry.mutation(description="Staff (role `admin`): change a gift category.")
    async def marketplace_category_update(
        self, info: strawberry.Info[Context, None], input: MarketplaceCategoryUpdateInput
    ) -> MarketplaceCategoryUpdatePayload:
        info.context.require_role(Role.ADMIN)
        changes = given_fields(input, skip=("id",))

        async def update(service: CatalogueService) -> Any:
            pk = _pk(input.id, "MarketplaceCategory", "id")
            return await service.update_category(pk, changes)

        return await _category(info.context, update, MarketplaceCategoryUpdatePayload)

    @strawberry.mutation(description="Staff (role `admin`): add a product to a category.")
    async def marketplace_product_create(
        self, info: strawberry.Info[Context, None], input: MarketplaceProductCreateInput
    ) -> MarketplaceProductCreatePayload:
        info.context.require_role(Role.ADMIN)
        draft = ProductDraft(**given_fields(input, skip=("category_id",)))

        async def create(service: CatalogueService) -> Any:
            pk = _pk(input.category_id, "MarketplaceCategory", "categoryId")
            return await service.create_product(pk, draft)

        return await _product(info.context, create, MarketplaceProductCreatePayload)

    @strawberry.mutation(description="Staff (role `admin`): change a product.")
    async def marketplace_product_update(
        self, info: strawberry.Info[Context, None], input: MarketplaceProductUpdateInput
    ) -> MarketplaceProductUpdatePayload:
        info.context.require_role(Role.ADMIN)
        changes = given_fields(input, skip=("id",))

        async def update(service: CatalogueService) -> Any:
            return await service.update_product(_pk(input.id, "MarketplaceProduct", "id"), changes)

        return await _product(info.context, update, MarketplaceProductUpdatePayload)

    @strawberry.mutation(
        description="Staff (role `support`): stop-list a product in a city or everywhere; "
        "customers see it as unavailable with the reason."
    )
    async def marketplace_stop_list_set(
        self, info: strawberry.Info[Context, None], input: MarketplaceStopListSetInput
    ) -> MarketplaceStopListSetPayload:
        staff = info.context.require_role(Role.SUPPORT)

        async def stop(service: CatalogueService) -> Any:
            pk = _pk(input.product_id, "MarketplaceProduct", "productId")
            return await service.stop(pk, input.city, input.reason, input.until, staff.subject)

        return await _product(info.context, stop, MarketplaceStopListSetPayload)

    @strawberry.mutation(description="Staff (role `support`): lift a stop.")
    async def marketplace_stop_list_lift(
        self, info: strawberry.Info[Context, None], input: MarketplaceStopListLiftInput
    ) -> MarketplaceStopListLiftPayload:
        info.context.require_role(Role.SUPPORT)

        async def lift(service: CatalogueService) -> Any:
            pk = _pk(input.product_id, "MarketplaceProduct", "productId")
            return await service.lift(pk, input.city)

        return await _product(info.context, lift, MarketplaceStopListLiftPayload)


C = TypeVar("C", bound=MarketplaceCategoryPayload)
P = TypeVar("P", bound=MarketplaceProductPayload)


async def _in_catalogue(
    context: Context, action: Callable[[CatalogueService], Awaitable[Any]]
) -> Any:
    """A staff change in its own transaction: the row it changed."""
    async with context.db.unit_of_work() as session:
        return await action(CatalogueService(session))


async def _category(
    context: Context, action: Callable[[CatalogueService], Awaitable[Any]], payload: type[C]
) -> C:
    row = await _in_catalogue(context, action)
    return payload(
        category=MarketplaceCategory.from_model(row, None, context.locale), user_errors=[]
    )


async def _product(
    context: Context, action: Callable[[CatalogueService], Awaitable[Any]], payload: type[P]
) -> P:
    row = await _in_catalogue(context, action)
    return payload(product=await product_view(context, row, None), user_errors=[])
