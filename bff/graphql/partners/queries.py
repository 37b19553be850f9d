"""Partner and offer queries: the catalogue customers browse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.pagination import Connection, build_connection, decode_cursor, page_size
from bff.graphql.partners.types import (
    Offer,
    Partner,
    PartnerCategory,
    offer_connection,
)
from bff.kernel.types import utcnow
from bff.partners.repository import PartnerRepository

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="Which offers to list.")
class OfferFilter:
    partner_code: str | None = strawberry.field(default=None, description="One partner's.")
    category: PartnerCategory | None = strawberry.field(
        default=None, description="Partners of a category."
    )
    active_only: bool = strawberry.field(
        default=True, description="Only offers that can be activated now (the default)."
    )


@strawberry.type
class PartnerQueries:
    @strawberry.field(description="Active partners, oldest first.")
    async def partners(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[Partner]:
        size = page_size(first, info.context.settings.max_page_size)
        async with info.context.reads.read() as session:
            rows = await PartnerRepository(session).partners_page(
                after_id=decode_cursor(after), limit=size + 1
            )
        return build_connection(
            rows, size, lambda p: p.id, lambda p: Partner.from_model(p, info.context.locale)
        )

    @strawberry.field(description="Offers of active partners, oldest first.")
    async def offers(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
        filter: Annotated[
            OfferFilter | None, strawberry.argument(description="Narrow the list.")
        ] = None,
    ) -> Connection[Offer]:
        return await offers_connection(info, first, after, filter)


async def offers_connection(
    info: strawberry.Info[Context, None],
    first: int | None,
    after: str | None,
    filter: OfferFilter | None,
) -> Connection[Offer]:
    """A page of offers (also for `home`): one statement, shared by every customer, its
    activations resolved for each (bff.graphql.execution)."""
    context = info.context
    chosen = filter or OfferFilter()
    size = page_size(first, context.settings.max_page_size)
    after_id = decode_cursor(after)

    async def page() -> Connection[Offer]:
        async with context.reads.read() as session:
            rows = await PartnerRepository(session).offers_page(
                after_id=after_id,
                limit=size + 1,
                partner_code=chosen.partner_code,
                category=chosen.category.value if chosen.category else None,
                active_at=utcnow() if chosen.active_only else None,
            )
        return await offer_connection(context, rows, size, key)

    key = (
        "offers",
        context.locale,
        after_id,
        size,
        chosen.partner_code,
        chosen.category,
        chosen.active_only,
    )
    # The page itself is kept, not only its rows: building its views is most of the
    # cost of the offers on a home screen. Its partners may have been read earlier in
    # this request, so it is kept only if nothing changed since the request began.
    return await context.catalogue.get(key, page, context.catalogue_generation)
