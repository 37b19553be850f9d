"""`home`: everything the native home screen draws, in one round trip.

Each field reuses the resolver logic of its own domain, so `home` answers exactly what
`me`, `offers`, `marketplace` and `featureFlags` would; every list comes through a
DataLoader or one statement, so the cost does not grow with the number of items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.customers.types import (
    level_of,
    wallets_of,
)
from bff.graphql.earning.cashback import Cashback, cashback_of
from bff.graphql.flags.queries import viewer_flags
from bff.graphql.flags.types import (
    FeatureFlag,
)
from bff.graphql.ledger.types import (
    Wallet,
)
from bff.graphql.levels.types import (
    LevelStatus,
)
from bff.graphql.marketplace.queries import marketplace_for
from bff.graphql.marketplace.types import (
    Marketplace,
)
from bff.graphql.pagination import Connection
from bff.graphql.partners.queries import OfferFilter, offers_connection
from bff.graphql.partners.types import (
    Offer,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type(description="The native home screen; wallets and level are null when anonymous.")
class Home:
    customer_pk: strawberry.Private[int | None]

    @strawberry.field(description="The signed-in customer's wallets; null when anonymous.")
    async def wallets(self, info: strawberry.Info[Context, None]) -> list[Wallet] | None:
        if self.customer_pk is None:
            return None
        return await wallets_of(info.context, self.customer_pk)

    @strawberry.field(description="The signed-in customer's level; null when anonymous.")
    async def level(self, info: strawberry.Info[Context, None]) -> LevelStatus | None:
        if self.customer_pk is None:
            return None
        return await level_of(info.context, self.customer_pk)

    @strawberry.field(
        description="The signed-in customer's cashback percentage on a brand; null when anonymous."
    )
    async def cashback(
        self,
        info: strawberry.Info[Context, None],
        brand: Annotated[str, strawberry.argument(description="The brand, e.g. `grocery`.")],
    ) -> Cashback | None:
        if self.customer_pk is None:
            return None
        return await cashback_of(info.context, self.customer_pk, brand[:64])

    @strawberry.field(description="Offers open now, as `offers` lists them.")
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

    @strawberry.field(description="The coin marketplace, judged for the viewer's city.")
    async def marketplace(
        self,
        info: strawberry.Info[Context, None],
        city: Annotated[
            str | None, strawberry.argument(description="For anonymous visitors.")
        ] = None,
    ) -> Marketplace:
        return await marketplace_for(info.context, city)

    @strawberry.field(description="Every flag, on or off for the viewer.")
    async def feature_flags(self, info: strawberry.Info[Context, None]) -> list[FeatureFlag]:
        return await viewer_flags(info.context)


@strawberry.type
class HomeQueries:
    @strawberry.field(description="One round trip for the native home screen.")
    async def home(self, info: strawberry.Info[Context, None]) -> Home:
        return Home(customer_pk=await info.context.viewer_customer_id())
