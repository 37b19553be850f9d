"""Earning queries (staff)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.earning.repository import EarningRepository
from bff.graphql.earning.types import (
    AccrualRule,
)
from bff.kernel.auth import Role

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class EarningQueries:
    @strawberry.field(description="Staff (role `admin`): every accrual rule.")
    async def accrual_rules(self, info: strawberry.Info[Context, None]) -> list[AccrualRule]:
        info.context.require_role(Role.ADMIN)
        async with info.context.reads.read() as session:
            rules = await EarningRepository(session).rules()
        return [AccrualRule.from_model(rule) for rule in rules]
