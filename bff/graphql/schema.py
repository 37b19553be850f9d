"""The schema, composed from every domain's queries and mutations."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from bff.graphql.customers.mutations import CustomerMutations
from bff.graphql.customers.queries import CustomerQueries
from bff.graphql.customers.types import (
    Customer,
)
from bff.graphql.earning.mutations import EarningMutations
from bff.graphql.earning.queries import EarningQueries
from bff.graphql.errors import handle_user_errors
from bff.graphql.execution import SharingExecutionContext
from bff.graphql.extensions import build_extensions, should_mask
from bff.graphql.flags.mutations import FlagMutations
from bff.graphql.flags.queries import FlagQueries
from bff.graphql.home.queries import HomeQueries
from bff.graphql.inputs import describe_input_arguments
from bff.graphql.ledger.mutations import LedgerMutations
from bff.graphql.ledger.queries import LedgerQueries
from bff.graphql.ledger.types import (
    LedgerEntry,
)
from bff.graphql.levels.mutations import LevelMutations
from bff.graphql.levels.queries import LevelQueries
from bff.graphql.marketplace.mutations import MarketplaceMutations
from bff.graphql.marketplace.queries import MarketplaceQueries
from bff.graphql.marketplace.types import (
    MarketplaceCategory,
    MarketplaceProduct,
    Redemption,
)
from bff.graphql.node import NodeQueries
from bff.graphql.partners.mutations import PartnerMutations
from bff.graphql.partners.queries import PartnerQueries
from bff.graphql.partners.types import (
    Offer,
    Partner,
)
from bff.graphql.push.mutations import PushMutations
from bff.graphql.push.queries import PushQueries
from bff.graphql.scalars import SCALAR_OVERRIDES
from bff.graphql.spending.mutations import SpendingMutations
from bff.graphql.spending.queries import SpendingQueries
from bff.graphql.webviews.mutations import WebviewMutations
from bff.kernel.config import Settings

Query = merge_types(
    "Query",
    (
        CustomerQueries,
        LedgerQueries,
        LevelQueries,
        FlagQueries,
        EarningQueries,
        PartnerQueries,
        MarketplaceQueries,
        HomeQueries,
        PushQueries,
        SpendingQueries,
        NodeQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        CustomerMutations,
        LedgerMutations,
        LevelMutations,
        FlagMutations,
        EarningMutations,
        PartnerMutations,
        MarketplaceMutations,
        WebviewMutations,
        PushMutations,
        SpendingMutations,
    ),
)
handle_user_errors(Mutation)
describe_input_arguments(Mutation)
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What the app, the WebViews and staff read: the signed-in customer (`me`), the "
    "home screen, the catalogue, and staff views."
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Every change: each takes an `input` and answers a payload with `userErrors`."
)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what we did not expect; client mistakes are not server errors."""
        unexpected = [error for error in errors if should_mask(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings | None = None) -> Schema:
    settings = settings or Settings()
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[
            Customer,
            LedgerEntry,
            Offer,
            Partner,
            MarketplaceCategory,
            MarketplaceProduct,
            Redemption,
        ],
        extensions=build_extensions(settings),
        scalar_overrides=SCALAR_OVERRIDES,
        execution_context_class=SharingExecutionContext,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
