"""Marketplace queries: the shelf and the viewer's redemptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.marketplace.types import Marketplace, viewer_city
from bff.marketplace.models import Category
from bff.marketplace.repository import MarketplaceRepository

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class MarketplaceQueries:
    @strawberry.field(description="The coin marketplace: gift categories and their products.")
    async def marketplace(
        self,
        info: strawberry.Info[Context, None],
        city: Annotated[
            str | None,
            strawberry.argument(
                description="Judge availability for this city when nobody is signed in "
                "(a signed-in customer's own city wins)."
            ),
        ] = None,
    ) -> Marketplace:
        return await marketplace_for(info.context, city)


async def marketplace_for(context: Context, city: str | None) -> Marketplace:
    """The shelf as the viewer sees it (also for `home`)."""

    async def load() -> Sequence[Category]:
        async with context.reads.read() as session:
            return await MarketplaceRepository(session).active_categories()

    categories = await context.catalogue.get("categories", load)
    return Marketplace(
        city=await viewer_city(context, city),
        categories_in_order=list(categories),
        locale=context.locale,
    )
