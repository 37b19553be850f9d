"""Sending pushes, run by `loyalty-bff worker`: several workers share a campaign.

1. A due campaign is started once (its row locked): the segment is copied into one
   message per device by a single INSERT ... SELECT, never loaded here.
2. Workers claim up to 500 due messages at a time (``FOR UPDATE SKIP LOCKED``), mark them
   SENDING and commit, so no other worker takes them; then they render and send outside
   any transaction, and record every answer.
3. Quiet hours (in the device's timezone) move a message to the morning; a customer who
   had enough marketing pushes gets none (CAPPED); dead tokens are deactivated;
   UNAVAILABLE retries with backoff; QUOTA_EXCEEDED pauses the whole campaign.

Every message is marked SENDING before it goes out, so a message is never sent twice by
two workers. A worker that dies between sending and recording leaves SENDING rows, which
go back to the queue after ``CLAIM_LEASE``: that one batch may then be sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firebase_admin import messaging
from jinja2 import TemplateError

from bff.kernel.config import Settings
from bff.kernel.db import Database
from push.models import Campaign, CampaignStatus, Device, Message, MessageStatus
from push.repository import PushRepository
from push.segments import compile_rule
from push.sender import Outcome, Sender, registration_message
from push.service import TemplateErrors
from push.templates import TemplateProblem, render

CLAIM_LEASE = timedelta(minutes=10)
RETRY_BASE = timedelta(seconds=30)
QUOTA_BASE = timedelta(seconds=60)

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What one pass did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    capped: int = 0
    retried: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


async def start_due_campaigns(db: Database, now: datetime) -> int:
    """Copy each due campaign's audience into messages; returns how many started."""
    started = 0
    while True:
        async with db.unit_of_work() as session:
            repository = PushRepository(session)
            campaign = await repository.due_campaign(now)
            if campaign is None:
                return started
            segment = await repository.segment(campaign.segment_id)
            assert segment is not None
            condition = compile_rule(segment.rule, now)
            campaign.targeted = await repository.target(campaign, condition, now)
            campaign.status = CampaignStatus.SENDING
            campaign.started_at = now
            started += 1


async def deliver(db: Database, sender: Sender, settings: Settings, now: datetime) -> Delivery:
    """Claim one batch, send it, record the answers."""
    async with db.unit_of_work() as session:
        repository = PushRepository(session)
        await repository.release_stale_claims(now - CLAIM_LEASE)
        ids = await repository.claim(now, min(settings.push_batch_size, 500))
    report = Delivery(claimed=len(ids))
    if not ids:
        async with db.unit_of_work() as session:
            await PushRepository(session).finish_campaigns(now)
        return report
    batch = await _prepare(db, settings, ids, now)
    outcomes = await sender.send([p.message for p in batch.to_send], dry_run=False)
    await _record(db, settings, batch, outcomes, now, report)
    return report


@dataclass
class _Outgoing:
    row_id: int
    device_id: int
    campaign_id: int | None
    message: messaging.Message


@dataclass
class _Batch:
    to_send: list[_Outgoing]
    deferred: dict[int, datetime]  # message id -> when the quiet hours end
    capped: list[int]
    refused: list[int]  # the customer turned this category off since
    broken: list[int] = field(default_factory=list)  # the template failed for this one


async def _prepare(db: Database, settings: Settings, ids: list[int], now: datetime) -> _Batch:
    async with db.read() as session:
        repository = PushRepository(session)
        rows = list(await repository.messages(ids))
        devices = await repository.devices([r.device_id for r in rows])
        campaigns = await repository.campaigns([r.campaign_id for r in rows if r.campaign_id])
        customer_ids = sorted({r.customer_id for r in rows})
        context = await _Context.load(repository, customer_ids)
        caps = await _caps(repository, customer_ids, campaigns.values(), now)
        refused = set()
        for kind in {r.kind for r in rows}:
            refused |= {(kind, c) for c in await repository.refusing(customer_ids, kind)}
    # Templates render within a budget, yet a batch of them is CPU: off the event loop.
    return await asyncio.to_thread(
        _sort, rows, devices, campaigns, context, caps, refused, settings, now
    )


def _sort(
    rows: list[Message],
    devices: dict[int, Device],
    campaigns: dict[int, Campaign],
    context: _Context,
    caps: Any,
    refused: set[tuple[str, int]],
    settings: Settings,
    now: datetime,
) -> _Batch:
    """Which messages go now, later or never, and their texts."""
    batch = _Batch([], {}, [], [])
    for row in rows:
        device = devices[row.device_id]
        campaign = campaigns.get(row.campaign_id) if row.campaign_id else None
        if (row.kind, row.customer_id) in refused or not device.active:
            batch.refused.append(row.id)
            continue
        morning = quiet_until(device, campaign, settings, now)
        if morning is not None:
            batch.deferred[row.id] = morning
            continue
        if campaign is not None and _over_cap(campaign, caps, row.customer_id):
            batch.capped.append(row.id)
            continue
        try:
            title, body = _texts(row, campaign, context, device)
        except TemplateError:
            batch.broken.append(row.id)  # checked at creation; data can still surprise
            continue
        batch.to_send.append(
            _Outgoing(row.id, device.id, row.campaign_id, _message(device, title, body, campaign))
        )
    return batch


@dataclass
class _Context:
    customers: dict[int, Any]
    balances: dict[int, dict[str, int]]
    levels: dict[int, tuple[str, str]]
    expiring: dict[int, tuple[int, datetime]]
    currencies: list[str]

    @classmethod
    async def load(cls, repository: PushRepository, customer_ids: list[int]) -> _Context:
        """What templates may use about these customers, in five statements."""
        return cls(
            customers=await repository.customers(customer_ids),
            balances=await repository.balances(customer_ids),
            levels=await repository.level_names(customer_ids),
            expiring=await repository.soonest_expiring(customer_ids),
            currencies=await repository.currency_codes(),
        )

    def values(self, customer_id: int, locale: str) -> dict[str, Any]:
        customer = self.customers.get(customer_id)
        level = self.levels.get(customer_id)
        expiring = self.expiring.get(customer_id)
        return {
            "name": (customer.display_name if customer else None) or "",
            "balances": {**dict.fromkeys(self.currencies, 0), **self.balances.get(customer_id, {})},
            "level": (level[1] if locale == "ru" else level[0]) if level else "",
            "expiring": (
                {"amount": expiring[0], "date": expiring[1].date().isoformat()}
                if expiring
                else {"amount": 0, "date": ""}
            ),
        }


def _texts(
    row: Message, campaign: Campaign | None, context: _Context, device: Device
) -> tuple[str, str]:
    if campaign is None:  # transactional: rendered when queued
        return row.title or "", row.body or ""
    locale = device.locale if device.locale in campaign.templates else "en"
    return render(campaign.templates, locale, context.values(row.customer_id, locale))


def _message(device: Device, title: str, body: str, campaign: Campaign | None) -> messaging.Message:
    data = {"link": campaign.link} if campaign is not None and campaign.link else {}
    return registration_message(device.token, title, body, data)


def zone_of(device: Device, settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(device.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.timezone)


def quiet_until(
    device: Device, campaign: Campaign | None, settings: Settings, now: datetime
) -> datetime | None:
    """When the device's quiet hours end, if ``now`` is inside them; else None."""
    start = campaign.quiet_start_minute if campaign else settings.push_quiet_start_minute
    end = campaign.quiet_end_minute if campaign else settings.push_quiet_end_minute
    if start == end:
        return None
    local = now.astimezone(zone_of(device, settings))
    minute = local.hour * 60 + local.minute
    quiet = (start <= minute or minute < end) if start > end else start <= minute < end
    if not quiet:
        return None
    day = local.date() + timedelta(days=1) if start > end and minute >= start else local.date()
    morning = datetime.combine(day, time(end // 60, end % 60), tzinfo=local.tzinfo)
    return morning.astimezone(now.tzinfo)


async def _caps(
    repository: PushRepository,
    customer_ids: list[int],
    campaigns: Iterable[Campaign],
    now: datetime,
) -> dict[str, dict[int, int]]:
    """Marketing pushes each customer got in the last day and week; counted only when a
    campaign of the batch has a cap, since each count reads the customers' history."""
    if all(c.cap_per_day is None and c.cap_per_week is None for c in campaigns):
        return {"day": {}, "week": {}}
    return {
        "day": await repository.marketing_sent_since(customer_ids, now - timedelta(days=1)),
        "week": await repository.marketing_sent_since(customer_ids, now - timedelta(days=7)),
    }


def _over_cap(campaign: Campaign, caps: dict[str, dict[int, int]], customer_id: int) -> bool:
    day, week = caps["day"].get(customer_id, 0), caps["week"].get(customer_id, 0)
    return (campaign.cap_per_day is not None and day >= campaign.cap_per_day) or (
        campaign.cap_per_week is not None and week >= campaign.cap_per_week
    )


async def _record(
    db: Database,
    settings: Settings,
    batch: _Batch,
    outcomes: list[Outcome],
    now: datetime,
    report: Delivery,
) -> None:
    async with db.unit_of_work() as session:
        repository = PushRepository(session)
        rows = {row.id: row for row in await repository.messages(_all_ids(batch))}
        for row_id, morning in batch.deferred.items():
            row = rows[row_id]
            row.status, row.not_before, row.deferred = MessageStatus.PENDING, morning, True
            report.deferred += 1
        for row_id in batch.capped:
            _close(rows[row_id], MessageStatus.CAPPED, "CAPPED", report)
            report.capped += 1
        for row_id in batch.refused:
            _close(rows[row_id], MessageStatus.FAILED, "OPTED_OUT", report)
            report.failed += 1
        for row_id in batch.broken:
            _close(rows[row_id], MessageStatus.FAILED, "TEMPLATE_ERROR", report)
            report.failed += 1
        dead: dict[str, list[int]] = {}
        paused: set[int] = set()
        for outgoing, outcome in zip(batch.to_send, outcomes, strict=True):
            row = rows[outgoing.row_id]
            row.attempts += 1
            row.title = outgoing.message.notification.title
            row.body = outgoing.message.notification.body
            if outcome.sent:
                row.status, row.sent_at, row.fcm_name = MessageStatus.SENT, now, outcome.name
                report.sent += 1
            elif outcome.retry and row.attempts < settings.push_max_attempts:
                row.status, row.reason = MessageStatus.PENDING, outcome.code
                row.not_before = now + RETRY_BASE * 2 ** (row.attempts - 1)
                report.retried += 1
                if outcome.quota and row.campaign_id is not None:
                    paused.add(row.campaign_id)
            else:
                _close(row, MessageStatus.FAILED, outcome.code or "FAILED", report)
                report.failed += 1
                if outcome.deactivate:
                    dead.setdefault(outcome.code or "INVALID", []).append(outgoing.device_id)
        for reason, device_ids in dead.items():
            await repository.deactivate_devices(device_ids, reason)
        for campaign_id in paused:
            campaign = await repository.campaign(campaign_id)
            assert campaign is not None
            until = now + QUOTA_BASE * 2 ** min(campaign.slowdowns, 6)
            await repository.pause_campaign(campaign_id, until)
            # a paused campaign's retries wait for it, not for their own backoff
            for row in rows.values():
                if row.campaign_id == campaign_id and row.status == MessageStatus.PENDING:
                    row.not_before = max(row.not_before, until)


def _close(row: Message, status: MessageStatus, reason: str, report: Delivery) -> None:
    row.status, row.reason = status, reason
    report.reasons[reason] = report.reasons.get(reason, 0) + 1


def _all_ids(batch: _Batch) -> list[int]:
    return [
        *batch.deferred,
        *batch.capped,
        *batch.refused,
        *batch.broken,
        *(outgoing.row_id for outgoing in batch.to_send),
    ]


async def rendered(
    db: Database, campaign: Campaign, devices: list[Device]
) -> list[tuple[Device, str, str]]:
    """The campaign's texts as each device's customer would get them (test sends)."""
    customer_ids = sorted({device.customer_id for device in devices})
    async with db.read() as session:
        context = await _Context.load(PushRepository(session), customer_ids)

    def render_all() -> list[tuple[Device, str, str]]:
        found = []
        for device in devices:
            locale = device.locale if device.locale in campaign.templates else "en"
            values = context.values(device.customer_id, locale)
            try:
                title, body = render(campaign.templates, locale, values)
            except TemplateError as error:  # this customer's data took it over its budget
                raise TemplateErrors([TemplateProblem(locale, "templates", str(error))]) from error
            found.append((device, title, body))
        return found

    return await asyncio.to_thread(render_all)


async def try_out(
    db: Database, sender: Sender, campaign: Campaign, devices: list[Device], *, dry_run: bool
) -> list[tuple[Device, str, str, Outcome]]:
    """Send the campaign now to these devices (a test send), or only have FCM validate
    it (``dry_run``); nothing is recorded as a campaign message."""
    texts = await rendered(db, campaign, devices)
    batch = [_message(device, title, body, campaign) for device, title, body in texts]
    outcomes = await sender.send(batch, dry_run=dry_run)
    return [(*text, outcome) for text, outcome in zip(texts, outcomes, strict=True)]
