"""Devices, preferences, segments and campaigns: the rules; the sending is in delivery."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.models import Customer
from bff.kernel.errors import DomainError, NotFound, Problem
from bff.kernel.types import utcnow
from push.errors import PushErrorCode
from push.models import (
    DEFAULT_PREFERENCES,
    Campaign,
    CampaignStatus,
    Category,
    Device,
    Platform,
    Preference,
    Segment,
)
from push.repository import PushRepository
from push.segments import RuleError, compile_rule
from push.templates import TemplateProblem, check

TOKEN = re.compile(r"^[A-Za-z0-9_:\-.]{16,512}$")
LINK = re.compile(r"^(loyalty://[A-Za-z0-9_\-/?=&%.]*|/webviews/[A-Za-z0-9_\-/?=&%.]*)$")


MAX_TIMEZONE = 64  # IANA names are far shorter; the column holds this many


class InvalidToken(DomainError):
    code = PushErrorCode.INVALID_TOKEN


class InvalidTimezone(DomainError):
    code = PushErrorCode.INVALID_TIMEZONE


class InvalidRule(DomainError):
    code = PushErrorCode.INVALID_RULE


class InvalidTemplate(DomainError):
    code = PushErrorCode.INVALID_TEMPLATE


class InvalidCampaign(DomainError):
    code = PushErrorCode.INVALID_CAMPAIGN


class NameTaken(DomainError):
    code = PushErrorCode.NAME_TAKEN


@dataclass(frozen=True)
class DeviceDraft:
    token: str
    platform: Platform
    app_version: str
    locale: str
    timezone: str


class DeviceService:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.repository = PushRepository(session)
        self.clock = clock

    async def register(self, customer_id: int, draft: DeviceDraft) -> Device:
        """Register or refresh a token; a token seen under another customer moves here
        (the phone changed hands or accounts)."""
        if not TOKEN.match(draft.token):
            raise InvalidToken(field=("token",))
        if len(draft.timezone) > MAX_TIMEZONE:
            raise InvalidTimezone(field=("timezone",))
        try:
            ZoneInfo(draft.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:
            # OSError: a name the system cannot even look up as a file
            raise InvalidTimezone(field=("timezone",)) from error
        now = self.clock()
        device = await self.repository.device_by_token(draft.token)
        if device is None:
            device = Device(token=draft.token, created_at=now)
        device.customer_id = customer_id
        device.platform = draft.platform.value
        device.app_version = draft.app_version[:32]
        device.locale = draft.locale[:16]
        device.timezone = draft.timezone
        device.active, device.deactivated_reason, device.seen_at = True, None, now
        await self.repository.add(device)
        return device

    async def unregister(self, customer_id: int, token: str) -> bool:
        """False when the token is not this customer's (nothing changes then)."""
        device = await self.repository.device_by_token(token)
        if device is None or device.customer_id != customer_id:
            return False
        await self.repository.deactivate_devices([device.id], "UNREGISTERED_BY_APP")
        return True

    async def prune_stale(self, days: int) -> int:
        return await self.repository.prune_stale(self.clock() - timedelta(days=days))


class PreferenceService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = PushRepository(session)

    async def all(self, customer_id: int) -> dict[Category, bool]:
        chosen = await self.repository.preferences_of(customer_id)
        return {c: chosen.get(c.value, default) for c, default in DEFAULT_PREFERENCES.items()}

    async def set(
        self, customer_id: int, category: Category, enabled: bool
    ) -> dict[Category, bool]:
        row = await self.repository.preference(customer_id, category.value)
        if row is None:
            row = Preference(customer_id=customer_id, category=category.value)
        row.enabled, row.updated_at = enabled, utcnow()
        await self.repository.add(row)
        return await self.all(customer_id)


@dataclass(frozen=True)
class Preview:
    size: int
    sample: Sequence[Customer]


class SegmentService:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.repository = PushRepository(session)
        self.clock = clock

    async def preview(self, rule: Any, sample_size: int) -> Preview:
        condition = _compiled(rule, self.clock())
        size = await self.repository.segment_size(condition)
        sample = await self.repository.segment_sample(condition, max(0, min(sample_size, 50)))
        return Preview(size, sample)

    async def create(self, name: str, rule: Any, actor: str) -> Segment:
        _compiled(rule, self.clock())
        if not name.strip() or len(name) > 200:
            raise InvalidCampaign(field=("name",), reason="name: 1 to 200 characters")
        if await self.repository.segment_by_name(name.strip()) is not None:
            raise NameTaken(field=("name",))
        segment = Segment(name=name.strip(), rule=rule, created_by=actor, created_at=self.clock())
        await self.repository.add(segment)
        return segment


def _compiled(rule: Any, now: datetime) -> Any:
    try:
        return compile_rule(rule, now)
    except RuleError as error:
        raise InvalidRule(field=("rule",), reason=str(error)) from error


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    segment_id: int
    category: Category
    templates: dict[str, Any]
    link: str | None
    send_at: datetime | None
    quiet_start_minute: int
    quiet_end_minute: int
    cap_per_day: int | None
    cap_per_week: int | None


class TemplateErrors(DomainError):
    """Template problems, one per locale and field; nothing is saved."""

    code = PushErrorCode.INVALID_TEMPLATE

    def __init__(self, problems: list[TemplateProblem]) -> None:
        super().__init__(field=("templates",))
        self.problems = tuple(
            Problem(("templates", p.locale, p.field), p.message, {"locale": p.locale})
            for p in problems
        )


class CampaignService:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.repository = PushRepository(session)
        self.clock = clock

    async def create(self, draft: CampaignDraft, actor: str) -> Campaign:
        if await self.repository.segment(draft.segment_id) is None:
            raise NotFound(field=("segment_id",))
        problems = await asyncio.to_thread(check, draft.templates)  # a budget of CPU
        if problems:
            raise TemplateErrors(problems)
        _check_campaign(draft)
        now = self.clock()
        campaign = Campaign(
            name=draft.name.strip(),
            segment_id=draft.segment_id,
            category=draft.category.value,
            templates=draft.templates,
            link=draft.link,
            status=CampaignStatus.SCHEDULED,
            send_at=draft.send_at or now,
            quiet_start_minute=draft.quiet_start_minute,
            quiet_end_minute=draft.quiet_end_minute,
            cap_per_day=draft.cap_per_day,
            cap_per_week=draft.cap_per_week,
            created_by=actor,
            created_at=now,
        )
        await self.repository.add(campaign)
        return campaign

    async def cancel(self, campaign_id: int) -> Campaign:
        campaign = await self.repository.campaign(campaign_id)
        if campaign is None:
            raise NotFound(field=("id",))
        if campaign.status == CampaignStatus.SCHEDULED:
            campaign.status = CampaignStatus.CANCELLED
            await self.repository.add(campaign)
        return campaign


def _check_campaign(draft: CampaignDraft) -> None:
    if not draft.name.strip() or len(draft.name) > 200:
        raise InvalidCampaign(field=("name",), reason="name: 1 to 200 characters")
    if draft.link is not None and not LINK.match(draft.link):
        raise InvalidCampaign(field=("link",), reason="link: loyalty://... or /webviews/...")
    for name in ("quiet_start_minute", "quiet_end_minute"):
        if not 0 <= getattr(draft, name) < 24 * 60:
            raise InvalidCampaign(field=(name,), reason="quiet hours: 00:00 to 23:59")
    for cap in (draft.cap_per_day, draft.cap_per_week):
        if cap is not None and not 0 < cap <= 100:
            raise InvalidCampaign(field=("cap",), reason="caps: 1 to 100")
