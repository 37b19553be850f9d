"""Level rules: climb by completed orders, one-time rewards, decay with floors,
postponement once per level period, and the backfill from order history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.errors import DomainError
from bff.kernel.i18n import MESSAGES, message
from bff.kernel.types import utcnow
from bff.ledger.reasons import Reason
from bff.ledger.service import IdempotencyKey, LedgerService, Source
from bff.levels.errors import LevelErrorCode
from bff.levels.models import CustomerLevel, LevelEvent, MovementReason
from bff.levels.models import Level as Level  # callers name the type through the service
from bff.levels.repository import LevelRepository

# One customer's orders as levels-backfill sees them: (customer id, completion times of
# their completed, not cancelled orders, oldest first).
OrderHistory = tuple[int, list[datetime]]


@dataclass(frozen=True)
class OrderWindow:
    """The orders that count towards a level: completed, not cancelled orders since the
    customer's last gap of more than ``reset_days`` without one."""

    count: int
    last_order_at: datetime | None


# Reads the customer's window once their standing is locked (so that an order committed
# by a concurrent transaction is counted).
WindowReader = Callable[[], Awaitable[OrderWindow]]


class NothingToPostpone(DomainError):
    code = LevelErrorCode.NOTHING_TO_POSTPONE


class AlreadyPostponed(DomainError):
    code = LevelErrorCode.ALREADY_POSTPONED


@dataclass(frozen=True)
class LevelPolicy:
    decay_days: int = 30
    postpone_days: int = 30
    reset_days: int = 30  # a longer gap without an order starts the count again

    @property
    def reset_after(self) -> timedelta:
        return timedelta(days=self.reset_days)


@dataclass(frozen=True)
class Standing:
    """What the customer sees: their level, the next one, progress and decay."""

    level: Level
    next_level: Level | None
    completed_orders: int
    decay_at: datetime | None
    can_postpone: bool
    # The level's cashback bonus, earned from the first order on.
    bonus_bp: int = 0


class Ladder:
    """The levels in rank order, with the lookups every rule needs."""

    def __init__(self, levels: Sequence[Level]) -> None:
        if not levels:
            raise RuntimeError("no levels are configured")
        self.levels = sorted(levels, key=lambda level: level.rank)
        self.by_code = {level.code: level for level in self.levels}

    @property
    def start(self) -> Level:
        return self.levels[0]

    def earned(self, completed_orders: int) -> Level:
        return [lvl for lvl in self.levels if lvl.threshold <= completed_orders][-1]

    def above(self, level: Level) -> Level | None:
        higher = [lvl for lvl in self.levels if lvl.rank > level.rank]
        return higher[0] if higher else None

    def below(self, level: Level) -> Level | None:
        lower = [lvl for lvl in self.levels if lvl.rank < level.rank]
        return lower[-1] if lower else None

    def between(self, low: Level, high: Level) -> list[Level]:
        """Levels climbed when going from ``low`` to ``high`` (``high`` included)."""
        return [lvl for lvl in self.levels if low.rank < lvl.rank <= high.rank]

    def highest_floor(self, up_to: Level, current: str | None) -> str | None:
        floors = [lvl for lvl in self.levels if lvl.is_floor and lvl.rank <= up_to.rank]
        best = floors[-1] if floors else None
        if current and (best is None or self.by_code[current].rank > best.rank):
            return current
        return best.code if best else None


def describe(
    ladder: Ladder, row: CustomerLevel | None, policy: LevelPolicy, now: datetime
) -> Standing:
    """What a customer's standing means: level, next level, decay date, postponement."""
    if row is None:
        return Standing(ladder.start, ladder.above(ladder.start), 0, None, False)
    level = ladder.by_code[row.level_code]
    above_floor = row.level_code != row.floor_code and ladder.below(level) is not None
    return Standing(
        level=level,
        next_level=ladder.above(level),
        completed_orders=counting_orders(row, policy, now),
        decay_at=decay_at(row, policy) if above_floor else None,
        can_postpone=above_floor and row.postponed_until is None,
        bonus_bp=level.cashback_bonus_bp,
    )


def counting_orders(row: CustomerLevel, policy: LevelPolicy, now: datetime) -> int:
    """The window's count now: none once the gap since the last order passed the reset."""
    if row.last_order_at is not None and now - row.last_order_at > policy.reset_after:
        return 0
    return row.completed_orders


def decay_at(row: CustomerLevel, policy: LevelPolicy) -> datetime:
    if row.postponed_until is not None:
        return row.postponed_until
    anchor = max(filter(None, (row.last_order_at, row.level_since)))
    return anchor + timedelta(days=policy.decay_days)


@dataclass(frozen=True)
class Replayed:
    level: Level
    floor: Level | None
    orders: int  # in the window
    last_order_at: datetime | None
    level_since: datetime


def replay(
    ladder: Ladder, policy: LevelPolicy, completions: Sequence[datetime], now: datetime
) -> Replayed:
    """Where the live rules leave a customer with these completed orders by ``now``:
    each order counts in its window (a gap over the reset starts it again) and may climb;
    without orders a level drops one step per decay period, never below a floor reached."""
    start = ladder.start
    level, floor = start, (start if start.is_floor else None)
    orders, last, since = 0, None, (min(completions) if completions else now)

    def decay_until(moment: datetime) -> None:
        nonlocal level, since
        while level != floor and (lower := ladder.below(level)) is not None:
            due = max(filter(None, (last, since))) + timedelta(days=policy.decay_days)
            if due > moment:
                return
            level = floor if floor is not None and floor.rank > lower.rank else lower
            since = due

    for completed_at in sorted(completions):
        decay_until(completed_at)
        if last is not None and completed_at - last > policy.reset_after:
            orders = 0
        orders, last = orders + 1, completed_at
        earned = ladder.earned(orders)
        if earned.rank > level.rank:
            level, since = earned, completed_at
            floor_code = ladder.highest_floor(earned, floor.code if floor else None)
            floor = ladder.by_code[floor_code] if floor_code else None
    decay_until(now)
    return Replayed(level, floor, orders, last, since)


class LevelService:
    def __init__(
        self,
        session: AsyncSession,
        policy: LevelPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = LevelRepository(session)
        self.ledger = LedgerService(session, clock=clock)
        self.policy = policy or LevelPolicy()
        self.clock = clock

    async def ladder(self) -> Ladder:
        return Ladder(await self.repository.levels())

    async def bonus_bp(self, customer_id: int) -> int:
        return (await self.standing_of(customer_id)).bonus_bp

    async def level_code_of(self, customer_id: int) -> str | None:
        """The customer's level, or None before their first order."""
        row = await self.repository.standing(customer_id)
        return row.level_code if row else None

    async def standing_of(self, customer_id: int) -> Standing:
        """Where the customer stands on the ladder now."""
        ladder = await self.ladder()
        return self.describe(ladder, await self.repository.standing(customer_id))

    def describe(self, ladder: Ladder, row: CustomerLevel | None) -> Standing:
        return describe(ladder, row, self.policy, self.clock())

    async def level_at(self, customer_id: int, at: datetime) -> Level:
        """The level the customer held at ``at``, from the recorded movements (an order
        reported late takes the bonus of the level held when it completed)."""
        ladder = await self.ladder()
        code = await self.repository.level_reached_by(customer_id, at)
        return ladder.by_code[code] if code else ladder.start

    def decay_at(self, row: CustomerLevel) -> datetime:
        return decay_at(row, self.policy)

    async def record_completed_order(
        self, customer_id: int, order_ref: str, read_window: WindowReader
    ) -> Level:
        """Count an order (``read_window`` already counts it); climb, granting each new
        level's one-time reward. A count that started again after a long gap is recorded
        as a reset."""
        ladder = await self.ladder()
        now = self.clock()
        row = await self._lock(ladder, customer_id, now)
        before = row.completed_orders
        window = await read_window()
        if before > 0 and window.count <= before:  # the new order started a new window
            detail = {"orders_before": before, "orders": window.count, "order": order_ref}
            await self._event(customer_id, "reset", row.level_code, row.level_code, detail)
        row.completed_orders, row.last_order_at = window.count, window.last_order_at
        # A late order can complete a window that a long gap has closed since: it does
        # not lift the level now.
        current, earned = (
            ladder.by_code[row.level_code],
            ladder.earned(counting_orders(row, self.policy, now)),
        )
        if earned.rank > current.rank:
            await self._climb(ladder, row, current, earned, now, order_ref)
        await self._save(row, now)
        return ladder.by_code[row.level_code]

    async def record_cancelled_order(self, customer_id: int, read_window: WindowReader) -> None:
        """A cancelled order stops counting; reached levels are only lost by decay."""
        ladder = await self.ladder()
        row = await self._lock(ladder, customer_id, self.clock())
        window = await read_window()
        row.completed_orders, row.last_order_at = window.count, window.last_order_at
        await self._save(row, self.clock())

    async def postpone(self, customer_id: int) -> Standing:
        ladder = await self.ladder()
        now = self.clock()
        row = await self._lock(ladder, customer_id, now)
        standing = self.describe(ladder, row)
        if standing.decay_at is None:
            raise NothingToPostpone()
        if not standing.can_postpone:
            raise AlreadyPostponed()
        row.postponed_until = standing.decay_at + timedelta(days=self.policy.postpone_days)
        await self._event(
            customer_id,
            "postpone",
            row.level_code,
            row.level_code,
            {"until": row.postponed_until.isoformat()},
        )
        await self._save(row, now)
        return self.describe(ladder, row)

    async def decay_candidates(self, limit: int) -> Sequence[int]:
        now = self.clock()
        cutoff = now - timedelta(days=self.policy.decay_days)
        return await self.repository.decay_candidates(cutoff, now, limit)

    async def decay(self, customer_id: int) -> Level | None:
        """Drop one level if it is due, never below the highest floor reached."""
        ladder = await self.ladder()
        now = self.clock()
        row = await self._lock(ladder, customer_id, now)
        standing = self.describe(ladder, row)
        if standing.decay_at is None or standing.decay_at > now:
            return None
        lower = ladder.below(standing.level)
        assert lower is not None
        floor = ladder.by_code[row.floor_code] if row.floor_code else None
        target = floor if floor and floor.rank > lower.rank else lower
        await self._event(customer_id, "down", row.level_code, target.code, None)
        self._enter(row, target.code, now)
        await self._save(row, now)
        return target

    async def _climb(
        self,
        ladder: Ladder,
        row: CustomerLevel,
        current: Level,
        earned: Level,
        now: datetime,
        order_ref: str,
    ) -> None:
        for level in ladder.between(current, earned):
            await self._grant_reward(row.customer_id, level, now)
        await self._event(
            row.customer_id,
            "up",
            current.code,
            earned.code,
            {"completed_orders": row.completed_orders, "order": order_ref},
        )
        row.floor_code = ladder.highest_floor(earned, row.floor_code)
        self._enter(row, earned.code, now)

    async def _grant_reward(self, customer_id: int, level: Level, now: datetime) -> None:
        if not level.reward_amount or not level.reward_currency:
            return
        reward_id = await self.repository.claim_reward(customer_id, level.code, now)
        if reward_id is None:
            return  # granted once already, perhaps before a decay
        posting = await self.ledger.accrue(
            customer_id,
            level.reward_currency,
            level.reward_amount,
            reason=Reason(
                "LEDGER_LEVEL_REWARD", {"level_en": level.name_en, "level_ru": level.name_ru}
            ),
            source=Source("level", level.code),
            idempotency=IdempotencyKey(f"level-reward:{customer_id}", level.code),
        )
        await self.repository.set_reward_entry(reward_id, posting.entry.id)
        await self._event(
            customer_id,
            "reward",
            level.code,
            level.code,
            {"amount": level.reward_amount, "currency": level.reward_currency},
        )

    async def backfill_batch(
        self, ladder: Ladder, history: Sequence[OrderHistory], *, dry_run: bool
    ) -> Counter[str]:
        """Assign levels from order history to one batch of customers, by replaying their
        orders through the live rules (no rewards: they were earned before the program
        existed): how many got each level."""
        distribution: Counter[str] = Counter()
        now = self.clock()
        for customer_id, completions in history:
            replayed = replay(ladder, self.policy, completions, now)
            distribution[replayed.level.code] += 1
            if dry_run:
                continue
            row = await self._lock(ladder, customer_id, now)
            before = row.level_code
            row.completed_orders, row.last_order_at = replayed.orders, replayed.last_order_at
            row.floor_code = replayed.floor.code if replayed.floor else None
            if replayed.level.code != before:
                self._enter(row, replayed.level.code, now)
                detail: dict[str, object] = {"completed_orders": replayed.orders}
                await self._event(customer_id, "backfill", before, replayed.level.code, detail)
            row.level_since = replayed.level_since
            await self._save(row, now)
        return distribution

    @staticmethod
    def _enter(row: CustomerLevel, level_code: str, now: datetime) -> None:
        row.level_code = level_code
        row.level_since = now
        row.postponed_until = None  # a new level period: postponing is possible again

    async def _lock(self, ladder: Ladder, customer_id: int, now: datetime) -> CustomerLevel:
        start = ladder.start
        return await self.repository.lock_standing(
            customer_id, start.code, start.code if start.is_floor else None, now
        )

    async def _save(self, row: CustomerLevel, now: datetime) -> None:
        row.version += 1
        row.updated_at = now
        await self.repository.save(row)

    async def _event(
        self,
        customer_id: int,
        kind: str,
        before: str | None,
        after: str | None,
        detail: dict[str, object] | None,
    ) -> None:
        await self.repository.add_event(
            LevelEvent(
                customer_id=customer_id,
                kind=kind,
                from_level=before,
                to_level=after,
                detail=detail,
                created_at=self.clock(),
            )
        )


@dataclass(frozen=True)
class Movement:
    """One row of the level history analysts read."""

    id: int
    customer_id: int
    from_level: str | None
    to_level: str | None
    reason: MovementReason
    source: str  # what caused it: an order (brand:id), the decay round, the customer...
    at: datetime


SOURCES = {
    MovementReason.DECAY: "decay-round",
    MovementReason.POSTPONEMENT: "customer",
    MovementReason.BACKFILL: "levels-backfill",
}


def movement(event: LevelEvent) -> Movement:
    reason = MovementReason(event.kind)
    order = (event.detail or {}).get("order")
    return Movement(
        id=event.id,
        customer_id=event.customer_id,
        from_level=event.from_level,
        to_level=event.to_level,
        reason=reason,
        source=f"order:{order}" if order else SOURCES.get(reason, ""),
        at=event.created_at,
    )


class MovementHistory:
    """Level movements for analysts, oldest first, a page at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self.repository = LevelRepository(session)

    async def page(
        self,
        reasons: Sequence[MovementReason],
        since: datetime | None,
        until: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> list[Movement]:
        kinds = [reason.value for reason in reasons or MovementReason]
        rows = await self.repository.events_page(kinds, since, until, after_id, limit)
        return [movement(row) for row in rows]

    async def count(
        self, reasons: Sequence[MovementReason], since: datetime | None, until: datetime | None
    ) -> int:
        kinds = [reason.value for reason in reasons or MovementReason]
        return await self.repository.count_events(kinds, since, until)


def level_name(level: Level, locale: str) -> str:
    return level.name_ru if locale == "ru" else level.name_en


def perk_title(code: str, locale: str) -> str:
    """A perk in the reader's language; a code without words is shown as it is."""
    key = f"PERK_{code.upper()}"
    return message(key, locale) if key in MESSAGES else code.replace("_", " ")
