"""The cashback percentage: what a customer gets back on a brand's orders, and why.

It is the base of the brand's percentage rules, plus the level's bonus (on the rules that
take it), plus the boosts of the customer's partner products, where the program's maximum
for the currency and brand (``cashbackCapSet``) limits what levels and products add. An
order takes the percentage of the moment it completed: a late order takes the boosts
that were active then.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bff.earning.errors import EarningErrorCode
from bff.earning.models import AccrualRule, CashbackCap, CashbackChange, RuleKind
from bff.earning.repository import EarningRepository
from bff.kernel.errors import DomainError
from bff.kernel.texts import localized
from bff.kernel.types import utcnow
from bff.levels.service import Level, LevelPolicy, LevelService, level_name
from bff.partners.boosts import BoostService

CURRENCY = "POINTS"  # percentage rules accrue points
WHOLE = 10_000


class PartKind(enum.StrEnum):
    BASE = "BASE"
    LEVEL = "LEVEL"
    PARTNER_BOOST = "PARTNER_BOOST"


@dataclass(frozen=True)
class Part:
    kind: PartKind
    percent_bp: int
    rule: AccrualRule | None = None  # BASE
    level_code: str | None = None  # LEVEL
    offer_id: int | None = None  # PARTNER_BOOST
    until: datetime | None = None  # PARTNER_BOOST: when it ends, if it is timed


@dataclass(frozen=True)
class Cashback:
    percent_bp: int  # what the customer gets, the cap applied
    cap_bp: int | None
    parts: list[Part]

    @property
    def base_bp(self) -> int:
        return sum(part.percent_bp for part in self.parts if part.kind == PartKind.BASE)

    @property
    def extra_bp(self) -> int:
        """What the level and partner products add, within the cap."""
        return self.percent_bp - self.base_bp


class InvalidCap(DomainError):
    code = EarningErrorCode.INVALID_CAP
    field = ("max_percent_basis_points",)


class CashbackService:
    def __init__(
        self,
        session: AsyncSession,
        levels: LevelPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = EarningRepository(session)
        self.levels = LevelService(session, levels, clock=clock)
        self.boosts = BoostService(session, clock=clock)
        self.clock = clock

    async def of(
        self,
        customer_id: int,
        brand: str,
        at: datetime | None = None,
        *,
        level: Level | None = None,
        rules: Sequence[AccrualRule] | None = None,
    ) -> Cashback:
        """The customer's percentage on ``brand`` at ``at`` (now by default). ``level``
        and ``rules`` (valid for the brand then): what the caller has read already."""
        moment = at or self.clock()
        if rules is None:
            rules = await self.repository.rules_valid_at(brand, moment)
        rules = [
            rule for rule in rules if rule.kind == RuleKind.PERCENT and rule.currency == CURRENCY
        ]
        parts = [Part(PartKind.BASE, rule.percent_bp or 0, rule=rule) for rule in rules]
        if not any(rule.level_bonus for rule in rules):
            # Levels and partner products add to the rules that take a bonus; none here.
            return Cashback(_capped(parts, None), None, parts)
        level = level or await self.levels.level_at(customer_id, moment)
        if level.cashback_bonus_bp:
            parts.append(Part(PartKind.LEVEL, level.cashback_bonus_bp, level_code=level.code))
        for boost in await self.boosts.active_at(customer_id, moment):
            parts.append(
                Part(
                    PartKind.PARTNER_BOOST,
                    boost.boost_bp,
                    offer_id=boost.offer_id,
                    until=boost.until,
                )
            )
        cap = await self.repository.cashback_cap(CURRENCY, brand)
        return Cashback(_capped(parts, cap), cap, parts)

    async def sources(self, found: Cashback, locale: str) -> list[str]:
        """What gives each part, in ``locale``: the rule, the level, or the partner and
        offer."""
        ladder = await self.levels.ladder()
        boosts = [part.offer_id for part in found.parts if part.offer_id is not None]
        products = await self.boosts.product_names(boosts, locale) if boosts else {}

        def source(part: Part) -> str:
            if part.rule is not None:
                return localized(part.rule, "title", locale)
            if part.level_code is not None:
                return level_name(ladder.by_code[part.level_code], locale)
            return products.get(part.offer_id or 0, "")

        return [source(part) for part in found.parts]

    async def set_cap(self, brand: str | None, max_bp: int, actor: str) -> CashbackCap:
        if isinstance(max_bp, bool) or not 0 < max_bp <= WHOLE:
            raise InvalidCap()
        return await self.repository.set_cashback_cap(CURRENCY, brand, max_bp, actor, utcnow())

    async def caps(self) -> Sequence[CashbackCap]:
        return await self.repository.cashback_caps()


def _capped(parts: Sequence[Part], cap: int | None) -> int:
    base = sum(part.percent_bp for part in parts if part.kind == PartKind.BASE)
    extra = sum(part.percent_bp for part in parts if part.kind != PartKind.BASE)
    if cap is not None:
        extra = max(0, min(extra, cap - base))
    return base + extra


class ChangeReason(enum.StrEnum):
    """Why a customer's cashback percentage changed."""

    ORDER = "ORDER"  # their orders lifted their level
    DECAY = "DECAY"  # their level decayed
    PARTNER_BOOST = "PARTNER_BOOST"  # a partner reported their product (de)activated
    BOOST_EXPIRED = "BOOST_EXPIRED"  # a timed boost's days ran out


class CashbackHistory:
    """Records each change of a customer's percentage, brand by brand, after something
    that may change it happened in the same transaction."""

    def __init__(
        self,
        session: AsyncSession,
        levels: LevelPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.cashback = CashbackService(session, levels, clock=clock)
        self.repository = self.cashback.repository
        self.clock = clock

    async def observe(
        self, customer_id: int, reason: ChangeReason, source: str
    ) -> list[CashbackChange]:
        now = self.clock()
        changes = []
        for brand in await self.repository.percent_brands(CURRENCY, now):
            found = await self.cashback.of(customer_id, brand, now)
            before = await self.repository.last_cashback(customer_id, brand)
            if before is None:
                before = found.base_bp  # what the brand gives without level or products
            if before == found.percent_bp:
                continue
            change = CashbackChange(
                customer_id=customer_id,
                brand=brand,
                from_bp=before,
                to_bp=found.percent_bp,
                reason=reason.value,
                source=source[:255],
                created_at=now,
            )
            await self.repository.add_cashback_change(change)
            changes.append(change)
        return changes

    async def page(
        self,
        reasons: Sequence[ChangeReason],
        since: datetime | None,
        until: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> Sequence[CashbackChange]:
        codes = [reason.value for reason in reasons]
        return await self.repository.cashback_changes_page(codes, since, until, after_id, limit)
