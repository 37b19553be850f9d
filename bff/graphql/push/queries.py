"""Push queries: the viewer's preferences; marketing's previews and campaign stats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.errors import BadUserInput
from bff.graphql.push.types import (
    Campaign,
    CampaignStats,
    NotificationCategory,
    NotificationPreference,
    ReasonCount,
    SegmentPreview,
)
from bff.kernel.auth import Role
from bff.kernel.errors import DomainError
from bff.kernel.global_ids import decode_typed_id
from bff.kernel.i18n import message
from push import models
from push.models import Category, MessageStatus
from push.repository import PushRepository
from push.service import PreferenceService, SegmentService

if TYPE_CHECKING:
    from bff.graphql.context import Context


def preferences_view(chosen: dict[Category, bool]) -> list[NotificationPreference]:
    return [
        NotificationPreference(category=NotificationCategory(c.value), enabled=on)
        for c, on in chosen.items()
    ]


async def campaign_view(context: Context, row: models.Campaign) -> Campaign:
    async with context.db.read() as session:
        counts = await PushRepository(session).stats(row.id)
    failed: dict[str, int] = {}
    totals = dict.fromkeys(MessageStatus, 0)
    deferred = 0
    for (status, reason, was_deferred), n in counts.items():
        totals[MessageStatus(status)] += n
        deferred += n if was_deferred else 0
        if status == MessageStatus.FAILED:
            failed[reason or "FAILED"] = failed.get(reason or "FAILED", 0) + n
    stats = CampaignStats(
        targeted=row.targeted,
        pending=totals[MessageStatus.PENDING] + totals[MessageStatus.SENDING],
        sent=totals[MessageStatus.SENT],
        failed=totals[MessageStatus.FAILED],
        failed_by_reason=[ReasonCount(reason=r, count=n) for r, n in sorted(failed.items())],
        deferred_by_quiet_hours=deferred,
        capped=totals[MessageStatus.CAPPED],
    )
    return Campaign.from_model(row, stats)


@strawberry.type
class PushQueries:
    @strawberry.field(description="The signed-in customer's push preferences.")
    async def notification_preferences(
        self, info: strawberry.Info[Context, None]
    ) -> list[NotificationPreference]:
        customer_id = await info.context.require_customer()
        async with info.context.db.read() as session:
            chosen = await PreferenceService(session).all(customer_id)
        return preferences_view(chosen)

    @strawberry.field(
        description="Staff (role `marketing`): how many customers a rule selects now, and "
        "the first few; counted by the database, whatever the size."
    )
    async def segment_preview(
        self,
        info: strawberry.Info[Context, None],
        rule: Annotated[
            strawberry.scalars.JSON,
            strawberry.argument(description="The segment's rule, as `segmentCreate` takes it."),
        ],
        sample_size: Annotated[
            int, strawberry.argument(description="Customers to show, at most 50.")
        ] = 10,
    ) -> SegmentPreview:
        context = info.context
        context.require_role(Role.MARKETING)
        try:
            async with context.db.read() as session:
                preview = await SegmentService(session).preview(rule, sample_size)
        except DomainError as error:
            raise BadUserInput(message(error.code, context.locale, error.params)) from error
        return SegmentPreview(
            size=preview.size, sample_external_ids=[c.external_id for c in preview.sample]
        )

    @strawberry.field(description="Staff (role `marketing`): a campaign and its stats.")
    async def campaign(
        self,
        info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The campaign's id.")],
    ) -> Campaign | None:
        context = info.context
        context.require_role(Role.MARKETING)
        pk = decode_typed_id(id, "Campaign")
        if pk is None:
            return None
        async with context.db.read() as session:
            row = await PushRepository(session).campaign(pk)
        return await campaign_view(context, row) if row else None
