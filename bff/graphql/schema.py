"""The schema, composed from every domain's queries and mutations."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from bff.config import Settings
from bff.customers.mutations import CustomerMutations
from bff.customers.queries import CustomerQueries
from bff.customers.types import Customer
from bff.graphql.extensions import build_extensions
from bff.graphql.node import NodeQueries
from bff.ledger.mutations import LedgerMutations
from bff.ledger.queries import LedgerQueries
from bff.ledger.types import LedgerEntry

Query = merge_types("Query", (CustomerQueries, LedgerQueries, NodeQueries))
Mutation = merge_types("Mutation", (CustomerMutations, LedgerMutations))


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Customer, LedgerEntry],
        extensions=build_extensions(settings),
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
