"""Spending queries (staff)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.spending.types import SpendingRule
from bff.kernel.auth import Role
from bff.spending.service import SpendingService

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class SpendingQueries:
    @strawberry.field(description="Staff (role `admin`): every spending rule.")
    async def spending_rules(self, info: strawberry.Info[Context, None]) -> list[SpendingRule]:
        info.context.require_role(Role.ADMIN)
        async with info.context.reads.read() as session:
            rules = await SpendingService(session).rules()
        return [SpendingRule.from_model(rule) for rule in rules]
