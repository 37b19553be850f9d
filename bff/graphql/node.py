"""``node(id:)``: refetch any object by global id, only where the viewer may see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.auth import Role
from bff.global_ids import MalformedId, decode_id
from bff.graphql.customers.types import (
    Customer,
)
from bff.graphql.errors import BadUserInput
from bff.graphql.ids import Node
from bff.graphql.ledger.types import (
    LedgerEntry,
)
from bff.graphql.marketplace.queries import viewer_city
from bff.graphql.marketplace.types import (
    MarketplaceCategory,
    Redemption,
    product_view,
)
from bff.graphql.partners.types import (
    Partner,
    offer_view,
)
from bff.marketplace import models
from bff.marketplace.repository import MarketplaceRepository
from bff.partners.repository import PartnerRepository

if TYPE_CHECKING:
    from bff.graphql.context import Context


async def _may_see_customer(context: Context, customer_id: int) -> bool:
    if context.is_staff_with(Role.SUPPORT):
        return True
    return await context.viewer_customer_id() == customer_id


async def resolve_node(context: Context, global_id: str) -> Node | None:
    try:
        type_name, pk = decode_id(global_id)
    except MalformedId as error:
        raise BadUserInput("`id` is not a global id this API issued") from error
    loaders = context.loaders
    if type_name == "Customer":
        customer = await loaders.customer_by_id.load(pk)
        if customer and await _may_see_customer(context, customer.id):
            return Customer.from_model(customer)
    elif type_name == "LedgerEntry":
        entry = await loaders.ledger_entry_by_id.load(pk)
        if entry and await _may_see_customer(context, entry.customer_id):
            return LedgerEntry.from_model(entry)
    elif type_name in ("Offer", "Partner"):
        return await _catalogue_node(context, type_name, pk)
    elif type_name in ("MarketplaceCategory", "MarketplaceProduct"):
        return await _shelf_node(context, type_name, pk)
    elif type_name == "Redemption":
        redemption = await _redemption(context, pk)
        if redemption and await _may_see_customer(context, redemption.customer_id):
            return Redemption.from_model(redemption)
    # Someone else's object answers exactly like a missing one.
    return None


async def _catalogue_node(context: Context, type_name: str, pk: int) -> Node | None:
    """Partners and offers are public catalogue objects."""
    if type_name == "Offer":
        async with context.reads.read() as session:
            offer = await PartnerRepository(session).offer(pk)
        # Outside the read: the view's loaders take their turn on the same session.
        return await offer_view(context, offer) if offer else None
    async with context.reads.read() as session:
        partners = await PartnerRepository(session).partners_by_ids([pk])
    return Partner.from_model(partners[0]) if partners else None


async def _shelf_node(context: Context, type_name: str, pk: int) -> Node | None:
    """Categories and products are public; inactive ones are gone for customers."""
    city = await viewer_city(context, None)
    if type_name == "MarketplaceCategory":
        category = await context.loaders.category_by_id.load(pk)
        if category is not None and category.active:
            return MarketplaceCategory.from_model(category, city)
        return None
    product = await context.loaders.product_by_id.load(pk)
    return await product_view(context, product, city) if product else None


async def _redemption(context: Context, pk: int) -> models.Redemption | None:
    async with context.reads.read() as session:
        return await MarketplaceRepository(session).redemption(pk)


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global id; null when it does not exist or is not yours."
    )
    async def node(
        self,
        info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id from this API.")],
    ) -> Node | None:
        return await resolve_node(info.context, id)
