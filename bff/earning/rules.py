"""Accrual arithmetic: which rules apply to an order, how much, and when it expires.

Money is kopecks and points are whole numbers; rates are basis points. Everything
rounds down, so a customer is never promised a point the rule did not earn.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bff.earning.models import AccrualRule, ExpiryPolicy, RuleKind

KOPECKS_PER_POINT = 100  # one point is worth one ruble
BASIS_POINTS = 10_000


@dataclass(frozen=True)
class OrderFacts:
    brand: str
    city: str | None
    amount: int
    completed_at: datetime


def rule_applies(rule: AccrualRule, order: OrderFacts) -> bool:
    """Brand, city and validity window; the feature-flag gate is checked by the caller."""
    if not rule.active:
        return False
    if rule.brand is not None and rule.brand != order.brand:
        return False
    if rule.cities and order.city not in rule.cities:
        return False
    if order.completed_at < rule.valid_from:
        return False
    return rule.valid_to is None or order.completed_at < rule.valid_to


def points_for(rule: AccrualRule, amount: int, level_bonus_bp: int) -> int:
    if rule.kind == RuleKind.PER_AMOUNT:
        assert rule.step_amount
        assert rule.points_per_step is not None
        return (amount // rule.step_amount) * rule.points_per_step
    rate = (rule.percent_bp or 0) + (level_bonus_bp if rule.level_bonus else 0)
    return amount * rate // (BASIS_POINTS * KOPECKS_PER_POINT)


def proportional(points: int, amount: int, remaining: int) -> int:
    """What ``points`` earned on ``amount`` are worth once only ``remaining`` is kept."""
    if amount <= 0:
        return 0
    return points * max(0, remaining) // amount


def expiry_for(
    policy: str, days: int | None, accrued_at: datetime, zone: ZoneInfo
) -> datetime | None:
    """When a lot accrued at ``accrued_at`` expires; month and year ends are local time."""
    if policy == ExpiryPolicy.NEVER:
        return None
    if policy == ExpiryPolicy.DAYS:
        return accrued_at + timedelta(days=days or 0)
    local = accrued_at.astimezone(zone)
    if policy == ExpiryPolicy.END_OF_MONTH:
        last_day = calendar.monthrange(local.year, local.month)[1]
        end = local.replace(day=last_day)
    else:
        end = local.replace(month=12, day=31)
    return end.replace(hour=23, minute=59, second=59, microsecond=0)
