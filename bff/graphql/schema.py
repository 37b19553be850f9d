"""The schema, composed from every domain's queries and mutations."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from bff.config import Settings
from bff.customers.mutations import CustomerMutations
from bff.customers.queries import CustomerQueries
from bff.customers.types import Customer
from bff.earning.mutations import EarningMutations
from bff.earning.queries import EarningQueries
from bff.flags.mutations import FlagMutations
from bff.flags.queries import FlagQueries
from bff.graphql.execution import SharingExecutionContext
from bff.graphql.extensions import build_extensions, should_mask
from bff.graphql.node import NodeQueries
from bff.home.queries import HomeQueries
from bff.ledger.mutations import LedgerMutations
from bff.ledger.queries import LedgerQueries
from bff.ledger.types import LedgerEntry
from bff.levels.mutations import LevelMutations
from bff.levels.queries import LevelQueries
from bff.marketplace.mutations import MarketplaceMutations
from bff.marketplace.queries import MarketplaceQueries
from bff.marketplace.types import MarketplaceCategory, MarketplaceProduct, Redemption
from bff.partners.mutations import PartnerMutations
from bff.partners.queries import PartnerQueries
from bff.partners.types import Offer, Partner
from push.mutations import PushMutations
from push.queries import PushQueries
from webviews.mutations import WebviewMutations

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
    ),
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
        execution_context_class=SharingExecutionContext,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
