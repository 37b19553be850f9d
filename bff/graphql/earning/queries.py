"""Earning queries (staff)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.earning.cashback import CashbackHistory, CashbackService, ChangeReason
from bff.earning.repository import EarningRepository
from bff.earning.service import AccrualQueue
from bff.graphql.earning.cashback import CashbackCap, CashbackChange
from bff.graphql.earning.types import AccrualRule, SetAsideAccrual
from bff.graphql.pagination import (
    Connection,
    Since,
    Until,
    build_connection,
    decode_cursor,
    page_size,
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
        return [AccrualRule.from_model(rule, info.context.locale) for rule in rules]

    @strawberry.field(
        description="Staff (role `marketing`): every change of customers' cashback "
        "percentages, oldest first."
    )
    async def cashback_changes(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
        since: Since = None,
        until: Until = None,
        reasons: Annotated[
            list[ChangeReason] | None,
            strawberry.argument(description="Only these reasons; null: every one."),
        ] = None,
    ) -> Connection[CashbackChange]:
        context = info.context
        context.require_role(Role.MARKETING)
        size = page_size(first, context.settings.max_page_size)
        async with context.reads.read() as session:
            rows = await CashbackHistory(session).page(
                reasons or [], since, until, decode_cursor(after), size + 1
            )
        return build_connection(rows, size, lambda row: row.id, CashbackChange.from_model)

    @strawberry.field(description="Staff (role `admin`): the maximum cashback percentages.")
    async def cashback_caps(self, info: strawberry.Info[Context, None]) -> list[CashbackCap]:
        info.context.require_role(Role.ADMIN)
        async with info.context.reads.read() as session:
            rows = await CashbackService(session).caps()
        return [CashbackCap.from_model(row) for row in rows]

    @strawberry.field(
        description="Staff (role `support`): pending accruals the worker set aside, newest "
        "first. `bff_queue_rows_set_aside_total` in /metrics counts them as they happen."
    )
    async def set_aside_accruals(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[SetAsideAccrual]:
        info.context.require_role(Role.SUPPORT)
        size = page_size(first, info.context.settings.max_page_size)
        async with info.context.reads.read() as session:
            rows = await AccrualQueue(session).set_aside(decode_cursor(after), size + 1)
        return build_connection(rows, size, lambda row: row.id, SetAsideAccrual.from_domain)
