"""Push mutations: customers' devices and preferences; marketing's segments and campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from bff.graphql.errors import BadUserInput
from bff.graphql.push.queries import campaign_view, preferences_view
from bff.graphql.push.types import (
    Campaign,
    Device,
    DevicePlatform,
    NotificationCategory,
    NotificationPreference,
    PushUserError,
    Segment,
    SendResult,
)
from bff.kernel.auth import Role
from bff.kernel.global_ids import decode_typed_id
from bff.kernel.i18n import Locale
from bff.kernel.types import utcnow
from push import delivery
from push.errors import PushErrorCode
from push.models import Category, Platform
from push.repository import PushRepository
from push.segments import compile_rule
from push.service import (
    CampaignDraft,
    CampaignService,
    DeviceDraft,
    DeviceService,
    PreferenceService,
    SegmentService,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context

MAX_TEST_DEVICES = 20
MAX_DRY_RUN = 500


@strawberry.input(description="The app's FCM registration token and where it runs.")
class DeviceRegisterInput:
    token: str = strawberry.field(description="FCM registration token.")
    platform: DevicePlatform = strawberry.field(description="iOS, Android or web.")
    app_version: str = strawberry.field(description="e.g. 5.12.0.")
    locale: Locale = strawberry.field(description="Language of pushes.")
    timezone: str = strawberry.field(description="IANA zone, e.g. Asia/Yekaterinburg.")


@strawberry.input(description="The token to stop sending to.")
class DeviceUnregisterInput:
    token: str = strawberry.field(description="FCM registration token.")


@strawberry.input(description="Turn one category of pushes on or off.")
class NotificationPreferenceSetInput:
    category: NotificationCategory = strawberry.field(description="The kind of push.")
    enabled: bool = strawberry.field(description="Whether to send it.")


@strawberry.input(description="A named rule over customer data (see the README's rules).")
class SegmentCreateInput:
    name: str = strawberry.field(description="Unique name.")
    rule: strawberry.scalars.JSON = strawberry.field(
        description='e.g. {"and": [{"city": ["Kazan"]}, {"marketingOptIn": true}]}.'
    )


@strawberry.input(description="A push campaign to a segment.")
class CampaignCreateInput:
    name: str = strawberry.field(description="For staff.")
    segment_id: strawberry.ID = strawberry.field(description="The audience.")
    category: NotificationCategory = strawberry.field(
        default=NotificationCategory.MARKETING, description="Preferences are checked for it."
    )
    templates: strawberry.scalars.JSON = strawberry.field(
        description='{"en": {"title": "Hi {{ name }}", "body": "..."}, "ru": {...}}; Jinja2 '
        "with name, balances, level and expiring."
    )
    link: str | None = strawberry.field(
        default=None, description="loyalty://... deep link or a /webviews/... path."
    )
    send_at: datetime | None = strawberry.field(default=None, description="Null: now.")
    quiet_hours_start: str = strawberry.field(
        default="22:00", description="Local time (device's zone) when quiet hours begin."
    )
    quiet_hours_end: str = strawberry.field(default="09:00", description="...and end.")
    cap_per_day: int | None = strawberry.field(
        default=None, description="At most this many marketing pushes per customer a day."
    )
    cap_per_week: int | None = strawberry.field(default=None, description="...and a week.")


@strawberry.type(description="Result of `deviceRegister`.")
class DeviceRegisterPayload:
    device: Device | None = strawberry.field(description="The registered device.")
    user_errors: list[PushUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `deviceUnregister`.")
class DeviceUnregisterPayload:
    unregistered: bool = strawberry.field(description="False when the token was not yours.")
    user_errors: list[PushUserError] = strawberry.field(
        description="Always empty: an unknown token is simply not unregistered."
    )


@strawberry.type(description="Result of `notificationPreferenceSet`.")
class NotificationPreferenceSetPayload:
    preferences: list[NotificationPreference] = strawberry.field(description="All categories.")
    user_errors: list[PushUserError] = strawberry.field(
        description="Always empty: every category can be switched."
    )


@strawberry.type(description="Result of `segmentCreate`.")
class SegmentCreatePayload:
    segment: Segment | None = strawberry.field(description="The new segment.")
    user_errors: list[PushUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of a campaign mutation.")
class CampaignPayload:
    campaign: Campaign | None = strawberry.field(description="The campaign.")
    user_errors: list[PushUserError] = strawberry.field(
        description="Empty on success; template problems come one per locale and field."
    )


@strawberry.type(description="Result of `campaignCreate`.")
class CampaignCreatePayload(CampaignPayload):
    pass


@strawberry.type(description="Result of `campaignCancel`.")
class CampaignCancelPayload(CampaignPayload):
    pass


@strawberry.type(description="Result of trying a campaign out.")
class CampaignTryPayload:
    results: list[SendResult] = strawberry.field(description="One per device.")
    user_errors: list[PushUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `campaignTestSend`.")
class CampaignTestSendPayload(CampaignTryPayload):
    pass


@strawberry.type(description="Result of `campaignDryRun`.")
class CampaignDryRunPayload(CampaignTryPayload):
    pass


@strawberry.input(description="Which campaign to cancel.")
class CampaignCancelInput:
    id: strawberry.ID = strawberry.field(description="The campaign's id.")


@strawberry.input(description="A campaign to send now to chosen devices.")
class CampaignTestSendInput:
    campaign_id: strawberry.ID = strawberry.field(description="The campaign to render.")
    tokens: list[str] = strawberry.field(description="Device tokens of the staff's phones.")


@strawberry.input(description="A campaign to render and validate without sending.")
class CampaignDryRunInput:
    campaign_id: strawberry.ID = strawberry.field(description="The campaign to count.")


T = TypeVar("T", bound=CampaignTryPayload)


def _minute(value: str, name: str) -> int:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise BadUserInput(f"`{name}` must be HH:MM")
    return int(hours) * 60 + int(minutes)


def _pk(global_id: str, type_name: str, field: str) -> int:
    pk = decode_typed_id(global_id, type_name)
    if pk is None:
        raise BadUserInput(f"`{field}` is not a {type_name} id")
    return pk


@strawberry.type
class PushMutations:
    @strawberry.mutation(description="The signed-in customer's app registers for pushes.")
    async def device_register(
        self, info: strawberry.Info[Context, None], input: DeviceRegisterInput
    ) -> DeviceRegisterPayload:
        context = info.context
        customer_id = await context.require_customer()
        draft = DeviceDraft(
            input.token,
            Platform(input.platform.value),
            input.app_version,
            input.locale.value,
            input.timezone,
        )
        async with context.db.unit_of_work() as session:
            device = await DeviceService(session).register(customer_id, draft)
        return DeviceRegisterPayload(device=Device.from_model(device), user_errors=[])

    @strawberry.mutation(description="The signed-in customer's app stops pushes to a token.")
    async def device_unregister(
        self, info: strawberry.Info[Context, None], input: DeviceUnregisterInput
    ) -> DeviceUnregisterPayload:
        context = info.context
        customer_id = await context.require_customer()
        async with context.db.unit_of_work() as session:
            done = await DeviceService(session).unregister(customer_id, input.token)
        return DeviceUnregisterPayload(unregistered=done, user_errors=[])

    @strawberry.mutation(description="The signed-in customer turns a category on or off.")
    async def notification_preference_set(
        self, info: strawberry.Info[Context, None], input: NotificationPreferenceSetInput
    ) -> NotificationPreferenceSetPayload:
        context = info.context
        customer_id = await context.require_customer()
        async with context.db.unit_of_work() as session:
            chosen = await PreferenceService(session).set(
                customer_id, Category(input.category.value), input.enabled
            )
        return NotificationPreferenceSetPayload(
            preferences=preferences_view(chosen), user_errors=[]
        )

    @strawberry.mutation(description="Staff (role `marketing`): save a segment.")
    async def segment_create(
        self, info: strawberry.Info[Context, None], input: SegmentCreateInput
    ) -> SegmentCreatePayload:
        context = info.context
        staff = context.require_role(Role.MARKETING)
        async with context.db.unit_of_work() as session:
            segment = await SegmentService(session).create(input.name, input.rule, staff.subject)
        return SegmentCreatePayload(segment=Segment.from_model(segment), user_errors=[])

    @strawberry.mutation(
        description="Staff (role `marketing`): schedule a campaign; templates are checked "
        "for every locale first."
    )
    async def campaign_create(
        self, info: strawberry.Info[Context, None], input: CampaignCreateInput
    ) -> CampaignCreatePayload:
        context = info.context
        staff = context.require_role(Role.MARKETING)
        draft = CampaignDraft(
            name=input.name,
            segment_id=_pk(input.segment_id, "Segment", "segmentId"),
            category=Category(input.category.value),
            templates=input.templates if isinstance(input.templates, dict) else {},
            link=input.link,
            send_at=input.send_at,
            quiet_start_minute=_minute(input.quiet_hours_start, "quietHoursStart"),
            quiet_end_minute=_minute(input.quiet_hours_end, "quietHoursEnd"),
            cap_per_day=input.cap_per_day,
            cap_per_week=input.cap_per_week,
        )
        async with context.db.unit_of_work() as session:
            campaign = await CampaignService(session).create(draft, staff.subject)
        return CampaignCreatePayload(
            campaign=await campaign_view(context, campaign), user_errors=[]
        )

    @strawberry.mutation(description="Staff (role `marketing`): cancel a scheduled campaign.")
    async def campaign_cancel(
        self,
        info: strawberry.Info[Context, None],
        input: CampaignCancelInput,
    ) -> CampaignCancelPayload:
        context = info.context
        context.require_role(Role.MARKETING)
        async with context.db.unit_of_work() as session:
            campaign = await CampaignService(session).cancel(_pk(input.id, "Campaign", "id"))
        return CampaignCancelPayload(
            campaign=await campaign_view(context, campaign), user_errors=[]
        )

    @strawberry.mutation(
        description="Staff (role `marketing`): send the campaign now to chosen devices."
    )
    async def campaign_test_send(
        self,
        info: strawberry.Info[Context, None],
        input: CampaignTestSendInput,
    ) -> CampaignTestSendPayload:
        context = info.context
        context.require_role(Role.MARKETING)
        campaign_id, tokens = input.campaign_id, input.tokens
        if not 0 < len(tokens) <= MAX_TEST_DEVICES:
            raise BadUserInput(f"`tokens`: 1 to {MAX_TEST_DEVICES}")
        async with context.db.read() as session:
            repository = PushRepository(session)
            campaign = await repository.campaign(_pk(campaign_id, "Campaign", "campaignId"))
            devices = list(await repository.devices_by_tokens(tokens))
        return await _try(context, campaign, devices, CampaignTestSendPayload, dry_run=False)

    @strawberry.mutation(
        description="Staff (role `marketing`): render the campaign for up to 500 devices of "
        "its segment and have FCM validate the messages (validate_only); nothing is sent."
    )
    async def campaign_dry_run(
        self,
        info: strawberry.Info[Context, None],
        input: CampaignDryRunInput,
    ) -> CampaignDryRunPayload:
        context = info.context
        context.require_role(Role.MARKETING)
        campaign_id = input.campaign_id
        async with context.db.read() as session:
            repository = PushRepository(session)
            campaign = await repository.campaign(_pk(campaign_id, "Campaign", "campaignId"))
            devices: list[Any] = []
            if campaign is not None:
                segment = await repository.segment(campaign.segment_id)
                assert segment is not None
                condition = compile_rule(segment.rule, utcnow())
                devices = list(
                    await repository.sample_devices(condition, campaign.category, MAX_DRY_RUN)
                )
        return await _try(context, campaign, devices, CampaignDryRunPayload, dry_run=True)


async def _try(
    context: Context, campaign: Any, devices: list[Any], payload: type[T], *, dry_run: bool
) -> T:
    if campaign is None:
        error = PushUserError(
            code=PushErrorCode.NOT_FOUND, field=["campaignId"], message="no such campaign"
        )
        return payload(results=[], user_errors=[error])
    sender = context.request.app.state.push_sender
    if sender is None:
        raise BadUserInput("pushes are not configured (BFF_FCM_PROJECT_ID and credentials)")
    tried = await delivery.try_out(context.db, sender, campaign, devices, dry_run=dry_run)
    results = [
        SendResult(token=d.token, sent=o.sent, code=o.code, title=t, body=b) for d, t, b, o in tried
    ]
    return payload(results=results, user_errors=[])
