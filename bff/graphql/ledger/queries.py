"""Ledger queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.ledger.types import (
    Currency,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class LedgerQueries:
    @strawberry.field(description="The currencies the program runs, in a stable order.")
    async def currencies(self, info: strawberry.Info[Context, None]) -> list[Currency]:
        enabled = await info.context.loaders.enabled_currencies.load(None)
        return [Currency.from_model(currency, info.context.locale) for currency in enabled]
