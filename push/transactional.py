"""Transactional pushes, queued from what is already committed, never inside the money
transaction: points accrued and gifts confirmed (read from the ledger), a level reached
(read from level events), and a daily run for points expiring in 7 days and a level
decaying in 3.

Streams are read from a cursor with an overlap, and every message carries a
``dedupe_key`` ("<source>:<device>"), so a source event is queued at most once per device
even when two workers read the same rows. An entry whose transaction commits more than
``OVERLAP`` entries late is not announced (a push, never money). The delivery loop sends
them like campaign messages: preferences and quiet hours apply, the frequency cap does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.earning.models import CashbackChange
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.formatting import amount, percent
from bff.ledger.models import EntryKind, LedgerEntry, Lot, Wallet
from bff.levels.models import CustomerLevel, Level, LevelEvent
from bff.marketplace.models import Redemption
from push.models import Category, Cursor, Device, Message, MessageStatus
from push.repository import PushRepository

OVERLAP = 1000
SCAN = 2000
TRANSACTIONAL = Category.TRANSACTIONAL.value

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "accrued": {
        "en": ("+{amount}", "Your balance is {balance}."),
        "ru": ("+{amount}", "Ваш баланс: {balance}."),
    },
    "redemption_confirmed": {
        "en": ("Your gift is confirmed", "{amount} paid for it. Enjoy!"),
        "ru": ("Подарок подтверждён", "Списано {amount}. Приятного аппетита!"),
    },
    "level_up": {
        "en": ("Welcome to {level}!", "Your new level brings new perks."),
        "ru": ("Новый уровень: {level}!", "Вас ждут новые привилегии."),
    },
    "cashback_up": {
        "en": ("Your cashback is now {percent}", "Well done: your orders bring more back."),
        "ru": ("Ваш кешбэк теперь {percent}", "Так держать: заказы возвращают больше."),
    },
    "decay_soon": {
        "en": ("Keep your {level} level", "Order by {date} or your level drops."),
        "ru": ("Сохраните уровень {level}", "Сделайте заказ до {date}, иначе уровень понизится."),
    },
    "expiring_soon": {
        "en": ("{amount} expire soon", "They expire on {date}: spend them first."),
        "ru": ("Скоро сгорят {amount}", "Срок действия — до {date}. Успейте потратить."),
    },
}


@dataclass(frozen=True)
class Notice:
    """One event for one customer; ``source`` makes it unique (e.g. ``entry:42``)."""

    customer_id: int
    kind: str
    source: str
    params: dict[str, Any]


async def queue_transactional(db: Database, settings: Settings, now: datetime) -> int:
    queued = await _from_ledger(db, now)
    queued += await _from_levels(db, now)
    queued += await _from_cashback(db, now)
    return queued + await _daily(db, settings, now)


async def _from_stream(
    db: Database,
    now: datetime,
    name: str,
    model: Any,
    notices_of: Callable[[AsyncSession, list[Any]], Awaitable[list[Notice]]],
) -> int:
    """Announce the rows of ``model`` added since the cursor ``name`` last read."""
    async with db.unit_of_work() as session:
        cursor = await _lock_cursor(session, name, select(func.max(model.id)))
        if cursor is None:
            return 0
        rows = list(
            await session.scalars(
                select(model).where(model.id > _low(cursor)).order_by(model.id).limit(SCAN)
            )
        )
        queued = await enqueue(session, await notices_of(session, rows), now)
        _advance(cursor, rows[-1].id if rows else None, now)
        return queued


async def _from_ledger(db: Database, now: datetime) -> int:
    return await _from_stream(db, now, "ledger", LedgerEntry, _ledger_notices)


async def _ledger_notices(session: AsyncSession, entries: list[LedgerEntry]) -> list[Notice]:
    captured = {e.hold_id: e for e in entries if e.kind == EntryKind.CAPTURE and e.hold_id}
    gifts = set()
    if captured:
        gifts = set(
            await session.scalars(
                select(Redemption.hold_id).where(Redemption.hold_id.in_(list(captured)))
            )
        )
    notices = []
    for entry in entries:
        common = {"currency": entry.currency, "balance": entry.balance_after}
        if entry.kind == EntryKind.ACCRUAL and entry.delta > 0:
            params = {**common, "amount": entry.delta}
            notices.append(Notice(entry.customer_id, "accrued", f"entry:{entry.id}", params))
        elif entry.kind == EntryKind.CAPTURE and entry.hold_id in gifts:
            params = {**common, "amount": -entry.delta}
            source = f"entry:{entry.id}"
            notices.append(Notice(entry.customer_id, "redemption_confirmed", source, params))
    return notices


async def _from_levels(db: Database, now: datetime) -> int:
    async with db.unit_of_work() as session:
        cursor = await _lock_cursor(session, "levels", select(func.max(LevelEvent.id)))
        if cursor is None:
            return 0
        rows = (
            await session.execute(
                select(LevelEvent.id, LevelEvent.customer_id, Level.name_en, Level.name_ru)
                .join(Level, Level.code == LevelEvent.to_level)
                .where(LevelEvent.id > _low(cursor))
                .order_by(LevelEvent.id)
                .limit(SCAN)
            )
        ).all()
        up = set(
            await session.scalars(
                select(LevelEvent.id).where(
                    LevelEvent.id.in_([r[0] for r in rows]), LevelEvent.kind == "up"
                )
            )
        )
        notices = [
            Notice(customer_id, "level_up", f"level:{event_id}", {"level": en, "level_ru": ru})
            for event_id, customer_id, en, ru in rows
            if event_id in up
        ]
        queued = await enqueue(session, notices, now)
        _advance(cursor, rows[-1][0] if rows else None, now)
        return queued


async def _from_cashback(db: Database, now: datetime) -> int:
    """A customer's cashback percentage went up (a level, a partner product)."""
    return await _from_stream(db, now, "cashback", CashbackChange, _cashback_notices)


async def _cashback_notices(_session: AsyncSession, rows: list[CashbackChange]) -> list[Notice]:
    return [
        Notice(
            row.customer_id,
            "cashback_up",
            f"cashback:{row.id}",
            {
                "percent": percent(row.to_bp / 100, "en"),
                "percent_ru": percent(row.to_bp / 100, "ru"),
            },
        )
        for row in rows
        if row.to_bp > row.from_bp
    ]


async def _daily(db: Database, settings: Settings, now: datetime) -> int:
    """Once per local day, whatever the number of workers: the first to insert the day's
    marker runs it."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    async with db.unit_of_work() as session:
        marker = pg_insert(Cursor).values(
            name=f"daily:{today.isoformat()}", position=0, floor=0, updated_at=now
        )
        result = await session.execute(marker.on_conflict_do_nothing())
        if not result.rowcount:  # type: ignore[attr-defined]
            return 0
        stale = now - timedelta(days=settings.push_device_stale_days)
        await PushRepository(session).prune_stale(stale)
        notices = await _expiring_soon(session, now)
        notices += await _decay_soon(session, settings, now)
        return await enqueue(session, notices, now)


async def _expiring_soon(session: AsyncSession, now: datetime) -> list[Notice]:
    start, end = now + timedelta(days=7), now + timedelta(days=8)
    rows = await session.execute(
        select(Wallet.customer_id, func.sum(Lot.remaining), func.min(Lot.expires_at))
        .join(Lot, Lot.wallet_id == Wallet.id)
        .where(Lot.remaining > 0, Lot.expires_at >= start, Lot.expires_at < end)
        .group_by(Wallet.customer_id)
    )
    day = start.date().isoformat()
    return [
        Notice(cid, "expiring_soon", f"expiring:{day}:{cid}", {"amount": int(n), "date": _day(at)})
        for cid, n, at in rows
    ]


def _day(value: datetime | str | None) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value)[:10]


async def _decay_soon(session: AsyncSession, settings: Settings, now: datetime) -> list[Notice]:
    """Levels above a floor whose decay date falls 3 days from now."""
    start, end = now + timedelta(days=3), now + timedelta(days=4)
    period = timedelta(days=settings.level_decay_days)
    anchor_low, anchor_high = start - period, end - period
    postponed = CustomerLevel.postponed_until
    not_postponed = and_(
        postponed.is_(None),
        CustomerLevel.level_since < anchor_high,
        or_(CustomerLevel.last_order_at.is_(None), CustomerLevel.last_order_at < anchor_high),
        or_(
            CustomerLevel.level_since >= anchor_low,
            CustomerLevel.last_order_at >= anchor_low,
        ),
    )
    rows = await session.execute(
        select(CustomerLevel, Level.name_en, Level.name_ru)
        .join(Level, Level.code == CustomerLevel.level_code)
        .where(
            or_(CustomerLevel.floor_code.is_(None), CustomerLevel.floor_code != Level.code),
            Level.rank > select(func.min(Level.rank)).scalar_subquery(),
            or_(and_(postponed >= start, postponed < end), not_postponed),
        )
    )
    notices = []
    for standing, en, ru in rows:
        anchor = max(filter(None, (standing.last_order_at, standing.level_since)))
        decay = standing.postponed_until or anchor + period
        params = {"level": en, "level_ru": ru, "date": decay.date().isoformat()}
        source = f"decay:{decay.date().isoformat()}:{standing.customer_id}"
        notices.append(Notice(standing.customer_id, "decay_soon", source, params))
    return notices


async def enqueue(session: AsyncSession, notices: Sequence[Notice], now: datetime) -> int:
    """One message per active device of each customer who allows transactional pushes;
    a notice already queued for a device is skipped."""
    if not notices:
        return 0
    repository = PushRepository(session)
    customer_ids = sorted({n.customer_id for n in notices})
    refusing = await repository.refusing(customer_ids, TRANSACTIONAL)
    devices: dict[int, list[Device]] = {}
    for device in await session.scalars(
        select(Device).where(Device.customer_id.in_(customer_ids), Device.active.is_(True))
    ):
        devices.setdefault(device.customer_id, []).append(device)
    rows = [
        _row(notice, device, now)
        for notice in notices
        if notice.customer_id not in refusing
        for device in devices.get(notice.customer_id, [])
    ]
    if not rows:
        return 0
    insert = pg_insert(Message).values(rows)
    result = await session.execute(insert.on_conflict_do_nothing())
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _row(notice: Notice, device: Device, now: datetime) -> dict[str, Any]:
    locale = "ru" if device.locale == "ru" else "en"
    params = dict(notice.params)
    if locale == "ru":
        for name in ("level", "percent"):
            if f"{name}_ru" in params:
                params[name] = params[f"{name}_ru"]
    # Amounts in the device's language, in the plural form their number takes.
    currency = str(params.get("currency", "POINTS"))
    for name in ("amount", "balance"):
        if isinstance(params.get(name), int):
            params[name] = amount(params[name], currency, locale)
    title, body = TEXTS[notice.kind][locale]
    return {
        "campaign_id": None,
        "kind": Category.TRANSACTIONAL.value,
        "customer_id": notice.customer_id,
        "device_id": device.id,
        "status": MessageStatus.PENDING.value,
        "attempts": 0,
        "deferred": False,
        "title": title.format(**params),
        "body": body.format(**params),
        "params": {"event": notice.kind, **notice.params},
        "not_before": now,
        "dedupe_key": f"{notice.source}:{device.id}"[:128],
        "created_at": now,
    }


async def _lock_cursor(session: AsyncSession, name: str, newest: Any) -> Cursor | None:
    """The stream's cursor, locked; None when another worker holds it. A new cursor
    starts at the newest row: history is not announced."""
    statement = select(Cursor).where(Cursor.name == name).with_for_update(skip_locked=True)
    cursor = (await session.scalars(statement)).first()
    if cursor is not None:
        return cursor
    position = int(await session.scalar(newest) or 0)
    start = pg_insert(Cursor).values(name=name, position=position, floor=position)
    await session.execute(start.on_conflict_do_nothing())
    return None


def _low(cursor: Cursor) -> int:
    """Re-read the last ``OVERLAP`` rows (late commits), never before the stream began."""
    return max(cursor.floor, cursor.position - OVERLAP)


def _advance(cursor: Cursor, last_id: int | None, now: datetime) -> None:
    if last_id is not None and last_id > cursor.position:
        cursor.position = last_id
        cursor.updated_at = now
