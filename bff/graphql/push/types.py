"""GraphQL types of push notifications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

import strawberry

from bff.graphql.enums import describe_values, error_code_enum
from bff.graphql.errors import UserError
from bff.graphql.ids import ID_DESCRIPTION, Node, node_id
from bff.kernel.i18n import SUPPORTED, Locale
from push import models
from push.errors import PushErrorCode


@strawberry.enum(description="Where the app runs.")
class DevicePlatform(enum.Enum):
    IOS = "IOS"
    ANDROID = "ANDROID"
    WEB = "WEB"


describe_values(
    DevicePlatform, {"IOS": "The iOS app.", "ANDROID": "The Android app.", "WEB": "A browser."}
)


@strawberry.enum(description="Kinds of pushes a customer can turn on or off.")
class NotificationCategory(enum.Enum):
    TRANSACTIONAL = "TRANSACTIONAL"
    MARKETING = "MARKETING"
    PARTNER_OFFERS = "PARTNER_OFFERS"


describe_values(
    NotificationCategory,
    {
        "TRANSACTIONAL": "About the customer's own points and orders.",
        "MARKETING": "The program's campaigns.",
        "PARTNER_OFFERS": "Partners' offers.",
    },
)


# The domain's own enum: its codes are declared once, there.
error_code_enum(PushErrorCode, "Why a push mutation did not happen.")


@strawberry.type(description="A problem with a push mutation.")
class PushUserError(UserError):
    code: PushErrorCode = strawberry.field(description="Machine-readable reason.")
    locale: str | None = strawberry.field(
        default=None, description="For template problems: the locale at fault."
    )


@strawberry.type(description="An app installation that can receive pushes.")
class Device:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)
    platform: DevicePlatform = strawberry.field(description="iOS, Android or web.")
    app_version: str = strawberry.field(description="As the app reported it.")
    locale: Locale = strawberry.field(description="Language of its pushes.")
    timezone: str = strawberry.field(description="Quiet hours are judged in this zone.")
    active: bool = strawberry.field(description="False once FCM said the token is dead.")

    @classmethod
    def from_model(cls, row: models.Device) -> Device:
        return cls(
            id=node_id("Device", row.id),
            platform=DevicePlatform(row.platform),
            app_version=row.app_version,
            locale=Locale(row.locale) if row.locale in SUPPORTED else Locale.EN,
            timezone=row.timezone,
            active=row.active,
        )


@strawberry.type(description="One category of pushes and whether the customer wants it.")
class NotificationPreference:
    category: NotificationCategory = strawberry.field(description="The kind of push.")
    enabled: bool = strawberry.field(description="Whether it is sent.")


@strawberry.type(description="A marketing segment: a rule over customer data.")
class Segment(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    name: str = strawberry.field(description="Unique name.")
    rule: strawberry.scalars.JSON = strawberry.field(description="The rule, as stored.")

    @classmethod
    def from_model(cls, row: models.Segment) -> Segment:
        rule: Any = row.rule
        return cls(id=node_id("Segment", row.id), name=row.name, rule=rule)


@strawberry.type(description="How many customers a rule selects, and a few of them.")
class SegmentPreview:
    size: int = strawberry.field(description="Customers the rule selects now.")
    sample_external_ids: list[str] = strawberry.field(
        description="Identity-provider ids of the first customers, by id."
    )


@strawberry.type(description="A count of messages with one outcome.")
class ReasonCount:
    reason: str = strawberry.field(description="e.g. UNREGISTERED, UNAVAILABLE, OPTED_OUT.")
    count: int = strawberry.field(description="Messages.")


@strawberry.type(description="Where a campaign's messages stand.")
class CampaignStats:
    targeted: int = strawberry.field(description="Messages created: one per active device.")
    pending: int = strawberry.field(description="Not sent yet (including quiet hours).")
    sent: int = strawberry.field(description="Accepted by FCM.")
    failed: int = strawberry.field(description="Given up on.")
    failed_by_reason: list[ReasonCount] = strawberry.field(description="Failures by reason.")
    deferred_by_quiet_hours: int = strawberry.field(
        description="Messages that waited for the morning (sent or still waiting)."
    )
    capped: int = strawberry.field(description="Skipped by the frequency cap.")


@strawberry.enum(description="Where a campaign is in its life.")
class CampaignStatus(enum.Enum):
    SCHEDULED = "SCHEDULED"
    SENDING = "SENDING"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


describe_values(
    CampaignStatus,
    {
        "SCHEDULED": "Waiting for its time.",
        "SENDING": "Its messages are being sent.",
        "DONE": "Every message was sent or given up.",
        "CANCELLED": "Cancelled before it finished.",
    },
)


@strawberry.type(description="A segmented push campaign.")
class Campaign(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    name: str = strawberry.field(description="For staff.")
    status: CampaignStatus = strawberry.field(description="Scheduled, sending, done...")
    send_at: datetime = strawberry.field(description="When sending starts.")
    templates: strawberry.scalars.JSON = strawberry.field(
        description='Per locale: {"en": {"title": ..., "body": ...}}.'
    )
    stats: CampaignStats = strawberry.field(description="Message counts.")

    @classmethod
    def from_model(cls, row: models.Campaign, stats: CampaignStats) -> Campaign:
        return cls(
            id=node_id("Campaign", row.id),
            name=row.name,
            status=CampaignStatus(row.status),
            send_at=row.send_at,
            templates=cast(Any, row.templates),
            stats=stats,
        )


@strawberry.type(description="What FCM said about one test or dry-run message.")
class SendResult:
    token: str = strawberry.field(description="The device token.")
    sent: bool = strawberry.field(description="Accepted (or, in a dry run, valid).")
    code: str | None = strawberry.field(description="FCM's error code otherwise.")
    title: str = strawberry.field(description="The rendered title.")
    body: str = strawberry.field(description="The rendered body.")
