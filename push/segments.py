"""Segment rules: JSON kept as data, checked, and compiled to one SQL condition.

A rule is one object with one key:

    {"and": [rule, ...]}  {"or": [rule, ...]}  {"not": rule}
    {"balance": {"currency": "POINTS", "min": 100, "max": 5000}}     (either bound optional)
    {"level": ["GOLD", "PLATINUM"]}            {"city": ["Kazan"]}      {"brand": ["pizza"]}
    {"daysSinceLastOrder": {"min": 30, "max": 90}}
    {"pointsExpiringWithinDays": 7}            (any currency, points still left)
    {"activatedOffer": 12}                     (an offer's primary key; GraphQL takes its id)
    {"platform": ["IOS", "ANDROID"]}           {"marketingOptIn": true}

The condition is over ``customers`` and uses EXISTS sub-queries only, so a segment of any
size is counted, sampled or copied into a campaign by the database, never loaded here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true

from bff.customers.models import Customer
from bff.earning.models import Order, OrderStatus
from bff.ledger.models import Lot, Wallet
from bff.levels.models import CustomerLevel
from bff.partners.models import OfferActivation
from push.models import DEFAULT_PREFERENCES, Category, Device, Platform, Preference

MAX_DEPTH = 8
MAX_NODES = 100
MAX_LIST = 100


class RuleError(ValueError):
    """A rule that cannot be compiled; ``path`` says where, e.g. ``and[1].balance.min``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path


class Compiler:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.nodes = 0

    def compile(self, rule: Any, path: str = "", depth: int = 0) -> ColumnElement[bool]:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise RuleError(path, f"too large (at most {MAX_NODES} parts, {MAX_DEPTH} deep)")
        if not isinstance(rule, dict) or len(rule) != 1:
            raise RuleError(path, "each rule is an object with exactly one key")
        ((key, value),) = rule.items()
        handler = self._handlers().get(key)
        if handler is None:
            raise RuleError(path, f"unknown rule {key!r}")
        return handler(value, f"{path}.{key}" if path else key, depth)

    def _handlers(self) -> dict[str, Callable[[Any, str, int], ColumnElement[bool]]]:
        return {
            "and": self._all,
            "or": self._any,
            "not": lambda v, p, d: not_(self.compile(v, p, d + 1)),
            "balance": self._balance,
            "level": self._level,
            "city": self._city,
            "brand": self._brand,
            "daysSinceLastOrder": self._days_since_order,
            "pointsExpiringWithinDays": self._expiring,
            "activatedOffer": self._activated,
            "platform": self._platform,
            "marketingOptIn": self._opt_in,
        }

    def _parts(self, value: Any, path: str, depth: int) -> list[ColumnElement[bool]]:
        if not isinstance(value, list) or not value:
            raise RuleError(path, "expected a non-empty list of rules")
        return [self.compile(part, f"{path}[{n}]", depth + 1) for n, part in enumerate(value)]

    def _all(self, value: Any, path: str, depth: int) -> ColumnElement[bool]:
        return and_(true(), *self._parts(value, path, depth))

    def _any(self, value: Any, path: str, depth: int) -> ColumnElement[bool]:
        return or_(false(), *self._parts(value, path, depth))

    def _balance(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        if not isinstance(value, dict) or not isinstance(value.get("currency"), str):
            raise RuleError(path, 'expected {"currency": "POINTS", "min": ..., "max": ...}')
        low, high = _bounds(value, path)
        balance = func.coalesce(
            select(Wallet.balance - Wallet.held)
            .where(Wallet.customer_id == Customer.id, Wallet.currency == value["currency"])
            .scalar_subquery(),
            0,
        )
        conditions = [balance >= low] if low is not None else []
        conditions += [balance <= high] if high is not None else []
        return and_(true(), *conditions)

    def _level(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        codes = _strings(value, path)
        return exists().where(
            CustomerLevel.customer_id == Customer.id, CustomerLevel.level_code.in_(codes)
        )

    def _city(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        # never NULL, so "not" also selects customers whose city is unknown
        return and_(Customer.city.is_not(None), Customer.city.in_(_strings(value, path)))

    def _brand(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        return exists().where(
            Order.customer_id == Customer.id,
            Order.brand.in_(_strings(value, path)),
            Order.status == OrderStatus.COMPLETED,
        )

    def _days_since_order(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        if not isinstance(value, dict):
            raise RuleError(path, 'expected {"min": days, "max": days}')
        low, high = _bounds(value, path)
        conditions = []
        if low is not None:  # has ordered, but not in the last ``low`` days
            recent = self.now - timedelta(days=low)
            conditions += [self._ordered_since(None), ~self._ordered_since(recent)]
        if high is not None:  # an order within the last ``high`` days
            conditions.append(self._ordered_since(self.now - timedelta(days=high)))
        return and_(true(), *conditions)

    def _ordered_since(self, moment: datetime | None) -> ColumnElement[bool]:
        completed = exists().where(
            Order.customer_id == Customer.id, Order.status == OrderStatus.COMPLETED
        )
        return completed if moment is None else completed.where(Order.completed_at >= moment)

    def _expiring(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3650:
            raise RuleError(path, "expected a number of days between 1 and 3650")
        return exists().where(
            Wallet.customer_id == Customer.id,
            Lot.wallet_id == Wallet.id,
            Lot.remaining > 0,
            Lot.expires_at.is_not(None),
            Lot.expires_at <= self.now + timedelta(days=value),
        )

    def _activated(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise RuleError(path, "expected an offer")
        return exists().where(
            OfferActivation.customer_id == Customer.id,
            OfferActivation.offer_id == value,
            OfferActivation.active.is_(True),
        )

    def _platform(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        platforms = _strings(value, path)
        if unknown := set(platforms) - {p.value for p in Platform}:
            raise RuleError(path, f"unknown platform {sorted(unknown)[0]!r}")
        return exists().where(
            Device.customer_id == Customer.id,
            Device.active.is_(True),
            Device.platform.in_(platforms),
        )

    def _opt_in(self, value: Any, path: str, _depth: int) -> ColumnElement[bool]:
        if not isinstance(value, bool):
            raise RuleError(path, "expected true or false")
        opted = allows(Category.MARKETING)
        return opted if value else not_(opted)


def allows(category: Category) -> ColumnElement[bool]:
    """The customer wants this category of pushes (their choice, else the default)."""
    chosen = exists().where(
        Preference.customer_id == Customer.id,
        Preference.category == category.value,
        Preference.enabled.is_(True),
    )
    if not DEFAULT_PREFERENCES[category]:
        return chosen
    refused = exists().where(
        Preference.customer_id == Customer.id,
        Preference.category == category.value,
        Preference.enabled.is_(False),
    )
    return not_(refused)


def _bounds(value: dict[str, Any], path: str) -> tuple[int | None, int | None]:
    low, high = value.get("min"), value.get("max")
    for name, bound in (("min", low), ("max", high)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise RuleError(f"{path}.{name}", "expected a whole number")
    if low is None and high is None:
        raise RuleError(path, "give min, max or both")
    if low is not None and high is not None and low > high:
        raise RuleError(path, "min is above max")
    return low, high


def _strings(value: Any, path: str) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_LIST
        or not all(isinstance(item, str) and 0 < len(item) <= 128 for item in value)
    ):
        raise RuleError(path, f"expected a list of 1 to {MAX_LIST} names")
    return list(value)


def compile_rule(rule: Any, now: datetime) -> ColumnElement[bool]:
    """The condition over ``customers`` for ``rule``; RuleError when it is not valid."""
    return Compiler(now).compile(rule)
