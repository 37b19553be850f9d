"""Campaign delivery with the real firebase-admin client against a local FCM server."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bff.kernel.types import utcnow
from push.delivery import deliver, quiet_until, start_due_campaigns
from push.models import Campaign, Category, Device, Message, MessageStatus, Platform
from push.sender import Sender
from push.service import (
    CampaignDraft,
    CampaignService,
    DeviceDraft,
    DeviceService,
    PreferenceService,
    SegmentService,
)
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.fcm import PROJECT

EVENING = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 18:00 in Moscow
TEMPLATES = {
    "en": {"title": "Hi {{ name or 'there' }}", "body": "You have {{ balances.POINTS }} points"},
    "ru": {"title": "Привет", "body": "У вас {{ balances.POINTS }} баллов"},
}


@pytest.fixture
def push_settings(settings, fcm):
    return replace(settings, fcm_project_id=PROJECT, fcm_url=fcm.url)


@pytest.fixture
async def sender(push_settings):
    made = Sender(push_settings)
    yield made
    await made.close()


async def customer_with_device(
    db,
    subject: str,
    token: str,
    *,
    tz: str = "Europe/Moscow",
    points: int = 100,
    opt_in: bool = True,
    locale: str = "en",
    platform: Platform = Platform.ANDROID,
) -> int:
    customer = await make_customer(db, subject)
    if points:
        await accrue(db, customer.id, points)
    async with db.unit_of_work() as session:
        draft = DeviceDraft(token, platform, "5.0.0", locale, tz)
        await DeviceService(session).register(customer.id, draft)
        if opt_in:
            await PreferenceService(session).set(customer.id, Category.MARKETING, True)
    return customer.id


async def campaign(db, rule=None, now=EVENING, **overrides) -> int:
    async with db.unit_of_work() as session:
        segment = await SegmentService(session).create(
            f"segment {overrides.get('name', 'x')} {now.timestamp()}",
            rule or {"marketingOptIn": True},
            "boss",
        )
        values = {
            "name": "Autumn",
            "segment_id": segment.id,
            "category": Category.MARKETING,
            "templates": TEMPLATES,
            "link": "/webviews/offers",
            "send_at": now,
            "quiet_start_minute": 22 * 60,
            "quiet_end_minute": 9 * 60,
            "cap_per_day": None,
            "cap_per_week": None,
        } | overrides
        created = await CampaignService(session).create(CampaignDraft(**values), "boss")
    return created.id


async def run(db, sender, settings, now) -> None:
    await start_due_campaigns(db, now)
    while (await deliver(db, sender, settings, now)).claimed:
        pass


async def statuses(db) -> Counter:
    async with db.read() as session:
        rows = await session.execute(select(Message.status, Message.reason))
    return Counter((status, reason) for status, reason in rows)


def token(n: int) -> str:
    return f"device-token-{n:05d}-abcdefghijklmnop"


async def test_a_campaign_renders_per_customer_and_locale(db, sender, push_settings, fcm):
    await customer_with_device(db, "anna", token(1), points=120)
    await customer_with_device(db, "boris", token(2), points=70, locale="ru")
    await customer_with_device(db, "olga", token(3), opt_in=False)
    campaign_id = await campaign(db)
    await run(db, sender, push_settings, EVENING)
    sent = {m["token"]: m for m in fcm.delivered}
    assert set(sent) == {token(1), token(2)}  # olga did not opt in
    assert sent[token(1)]["notification"] == {"title": "Hi there", "body": "You have 120 points"}
    assert sent[token(2)]["notification"] == {"title": "Привет", "body": "У вас 70 баллов"}
    assert sent[token(1)]["data"] == {"link": "/webviews/offers"}
    async with db.read() as session:
        done = await session.get(Campaign, campaign_id)
    assert (done.status, done.targeted) == ("DONE", 2)


async def test_quiet_hours_follow_each_devices_timezone(db, sender, push_settings, fcm):
    late = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    await customer_with_device(db, "moscow", token(1), tz="Europe/Moscow")  # 23:00
    await customer_with_device(db, "vladivostok", token(2), tz="Asia/Vladivostok")  # 06:00
    await customer_with_device(db, "new-york", token(3), tz="America/New_York")  # 15:00
    await campaign(db, now=late)
    await run(db, sender, push_settings, late)
    assert fcm.tokens() == [token(3)]
    async with db.read() as session:
        found = await session.execute(
            select(Device.token, Message.not_before)
            .join(Device, Device.id == Message.device_id)
            .where(Message.status == MessageStatus.PENDING)
        )
        waiting = dict(found.all())
    assert waiting[token(1)] == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 09:00 Moscow
    assert waiting[token(2)] == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 09:00 Vladivostok
    await run(db, sender, push_settings, datetime(2026, 11, 22, 23, 0, tzinfo=UTC))
    assert fcm.tokens() == [token(3), token(2)]
    await run(db, sender, push_settings, datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert sorted(fcm.tokens()) == [token(1), token(2), token(3)]
    async with db.read() as session:
        deferred = await session.scalar(select(func.count()).where(Message.deferred.is_(True)))
    assert deferred == 2


def test_quiet_hours_that_do_not_wrap_midnight(push_settings):
    device = Device(timezone="Europe/Moscow")
    afternoon = Campaign(quiet_start_minute=13 * 60, quiet_end_minute=14 * 60)
    at = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)  # 13:30 in Moscow
    assert quiet_until(device, afternoon, push_settings, at) == datetime(
        2026, 11, 22, 11, 0, tzinfo=UTC
    )
    assert quiet_until(device, afternoon, push_settings, at + timedelta(hours=1)) is None


async def test_the_frequency_cap_counts_campaigns_per_customer(db, sender, push_settings, fcm):
    await customer_with_device(db, "anna", token(1))
    await customer_with_device(db, "boris", token(2))
    first = await campaign(db, rule={"city": ["nowhere"]}, name="a")  # nobody
    await campaign(db, name="b")
    await run(db, sender, push_settings, EVENING)
    assert sorted(fcm.tokens()) == [token(1), token(2)]
    later = EVENING + timedelta(hours=2)
    await campaign(db, now=later, name="c", cap_per_day=1)
    await campaign(db, now=later, name="d", cap_per_week=5)
    await run(db, sender, push_settings, later)
    assert Counter(fcm.tokens()) == {token(1): 2, token(2): 2}  # "c" capped, "d" sent
    assert (await statuses(db))[("CAPPED", "CAPPED")] == 2
    assert first  # an empty segment is a campaign too


async def test_dead_tokens_are_deactivated(db, sender, push_settings, fcm):
    for n in (1, 2, 3):
        await customer_with_device(db, f"c{n}", token(n))
    fcm.fail(token(1), "UNREGISTERED")
    fcm.fail(token(2), "INVALID_ARGUMENT")
    await campaign(db)
    await run(db, sender, push_settings, EVENING)
    async with db.read() as session:
        found = await session.execute(select(Device.token, Device.deactivated_reason))
        devices = dict(found.all())
    assert devices == {token(1): "UNREGISTERED", token(2): "INVALID_ARGUMENT", token(3): None}
    assert (await statuses(db)) == Counter(
        {("FAILED", "UNREGISTERED"): 1, ("FAILED", "INVALID_ARGUMENT"): 1, ("SENT", None): 1}
    )
    # the next campaign does not target them
    await campaign(db, now=EVENING + timedelta(minutes=5), name="next")
    await run(db, sender, push_settings, EVENING + timedelta(minutes=5))
    assert fcm.tokens() == [token(3), token(3)]


async def test_unavailable_retries_with_backoff(db, sender, push_settings, fcm):
    await customer_with_device(db, "anna", token(1))
    fcm.fail(token(1), "UNAVAILABLE", times=2)
    await campaign(db)
    await run(db, sender, push_settings, EVENING)
    assert fcm.tokens() == []
    await run(db, sender, push_settings, EVENING + timedelta(seconds=29))
    assert fcm.tokens() == []  # the first retry waits 30 s
    await run(db, sender, push_settings, EVENING + timedelta(seconds=30))
    assert fcm.tokens() == []  # failed again: now 60 s
    await run(db, sender, push_settings, EVENING + timedelta(seconds=90))
    assert fcm.tokens() == [token(1)]
    async with db.read() as session:
        assert await session.scalar(select(Message.attempts)) == 3


async def test_retries_stop_after_the_last_attempt(db, sender, push_settings, fcm):
    settings = replace(push_settings, push_max_attempts=2)
    await customer_with_device(db, "anna", token(1))
    fcm.fail(token(1), "UNAVAILABLE", times=5)
    await campaign(db)
    for minutes in (0, 5, 10):
        await run(db, sender, settings, EVENING + timedelta(minutes=minutes))
    assert (await statuses(db)) == Counter({("FAILED", "UNAVAILABLE"): 1})


async def test_quota_exceeded_slows_the_whole_campaign(db, sender, push_settings, fcm):
    for n in range(1, 4):
        await customer_with_device(db, f"c{n}", token(n))
    fcm.fail(token(1), "QUOTA_EXCEEDED")
    campaign_id = await campaign(db)
    await start_due_campaigns(db, EVENING)
    await deliver(db, sender, push_settings, EVENING)
    assert sorted(fcm.tokens()) == [token(2), token(3)]
    async with db.read() as session:
        paused = await session.get(Campaign, campaign_id)
    assert paused.paused_until == EVENING + timedelta(seconds=60)
    assert (await deliver(db, sender, push_settings, EVENING + timedelta(seconds=59))).claimed == 0
    await run(db, sender, push_settings, EVENING + timedelta(seconds=60))
    assert sorted(fcm.tokens()) == [token(1), token(2), token(3)]


async def test_two_workers_send_each_device_exactly_one_message(
    db,
    push_settings,
    fcm,
):
    settings = replace(push_settings, push_batch_size=40)
    for n in range(300):
        await customer_with_device(db, f"c{n}", token(n), points=0)
    await campaign(db)
    workers = [Sender(settings), Sender(settings)]
    try:

        async def worker(sender: Sender) -> None:
            await run(db, sender, settings, EVENING)

        await asyncio.gather(*(worker(s) for s in workers))
    finally:
        for made in workers:
            await made.close()
    assert (await statuses(db)) == Counter({("SENT", None): 300})
    assert sorted(fcm.tokens()) == [token(n) for n in range(300)]
    assert (await statuses(db)) == Counter({("SENT", None): 300})


async def test_a_token_moves_to_its_new_customer_and_stale_ones_are_pruned(db):
    anna = await customer_with_device(db, "anna", token(1))
    boris = await customer_with_device(db, "boris", token(1))
    async with db.read() as session:
        owner = await session.scalar(select(Device.customer_id).where(Device.token == token(1)))
    assert owner == boris != anna
    async with db.unit_of_work() as session:
        pruned = await DeviceService(
            session, clock=lambda: EVENING + timedelta(days=400)
        ).prune_stale(270)
    assert pruned == 1


async def test_the_worker_round_queues_starts_and_sends(db, sender, push_settings, fcm):
    from bff.worker import run_once

    await customer_with_device(db, "anna", token(1))
    await campaign(
        db, now=utcnow() - timedelta(minutes=1), quiet_start_minute=0, quiet_end_minute=0
    )
    report = await run_once(db, push_settings, sender)
    assert (report.campaigns_started, report.pushes_handled, report.failures) == (1, 1, 0)
    assert fcm.tokens() == [token(1)]


async def test_an_unreachable_fcm_is_tried_again_later(db, push_settings, fcm):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    offline = replace(push_settings, fcm_url=f"http://127.0.0.1:{closed}/v1/projects/{{0}}/x")
    await customer_with_device(db, "anna", token(1))
    await campaign(db)
    unreachable = Sender(offline)
    try:
        await run(db, unreachable, offline, EVENING)
    finally:
        await unreachable.close()
    assert (await statuses(db)) == Counter({("PENDING", "UNAVAILABLE"): 1})
    back = Sender(push_settings)
    try:
        await run(db, back, push_settings, EVENING + timedelta(seconds=30))
    finally:
        await back.close()
    assert fcm.tokens() == [token(1)]
    assert (await statuses(db)) == Counter({("SENT", "UNAVAILABLE"): 1})


async def test_firebase_admins_own_http2_client_sends_too(db, push_settings, fcm):
    settings = replace(push_settings, fcm_http2=True)
    for n in range(3):
        await customer_with_device(db, f"c{n}", token(n))
    fcm.fail(token(2), "UNREGISTERED")
    await campaign(db)
    sender = Sender(settings)
    try:
        await run(db, sender, settings, EVENING)
    finally:
        await sender.close()
    assert sorted(fcm.tokens()) == [token(0), token(1)]
    assert (await statuses(db)) == Counter({("SENT", None): 2, ("FAILED", "UNREGISTERED"): 1})


async def test_a_large_campaign_has_the_planner_count_its_messages(db, monkeypatch):
    """The statistics are redone once a campaign adds many messages, so cap counts use
    the customer index instead of reading every SENT row."""
    monkeypatch.setattr("push.repository.RESTATE_AFTER", 3)
    for n in range(3):
        await customer_with_device(db, f"c{n}", token(n), points=0)
    await campaign(db)
    await start_due_campaigns(db, EVENING)
    async with db.read() as session:
        estimate = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'push_messages'")
        )
    assert estimate == 3


async def test_a_customer_whose_data_takes_a_template_over_budget_fails_alone(
    db, sender, push_settings, fcm
):
    # One dot per point: fine for the sample (1,200 points), not for 50,000.
    templates = {
        "en": {"title": "Hi", "body": "{% for i in range(balances.POINTS) %}.{% endfor %}"}
    }
    await customer_with_device(db, "anna", token(1), points=120)
    await customer_with_device(db, "rich", token(2), points=50_000)
    await campaign(db, templates=templates)
    await run(db, sender, push_settings, EVENING)
    assert [m["token"] for m in fcm.delivered] == [token(1)]
    assert fcm.delivered[0]["notification"]["body"] == "." * 120
    assert (await statuses(db))[(MessageStatus.FAILED, "TEMPLATE_ERROR")] == 1
