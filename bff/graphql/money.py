"""Amounts as clients show them: a currency of the program, or rubles, each one object
with its words in the request's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.enums import described_enum
from bff.kernel.formatting import amount, rubles
from bff.ledger.models import CurrencyCode

if TYPE_CHECKING:
    from bff.graphql.context import Context

# Registered here, before any type names it: strawberry would otherwise make a plain
# definition of its own for the first field that does.
described_enum(
    CurrencyCode,
    "A currency of the program: POINTS, COINS, or the LEGACY bonus rubles.",
    {
        "POINTS": "Bonus points: earned on orders and from partners, pay part of an order.",
        "COINS": "Coins: earned on orders, spent on gifts in the marketplace.",
        "LEGACY": "Bonus rubles of the previous program, converted into points.",
    },
    name="CurrencyCode",
)


@strawberry.type(description="An amount of a currency of the program.")
class Money:
    amount: int = strawberry.field(description="Whole units of the currency (points, coins).")
    currency: CurrencyCode = strawberry.field(description="Which currency.")

    @strawberry.field(
        description="The amount in the request's language, in the plural form its number "
        'takes: "1 000 баллов", "2 coins", "−345 points".'
    )
    def text(self, info: strawberry.Info[Context, None]) -> str:
        value, locale = self.amount, info.context.locale
        return amount(value, self.currency.value, locale, signed=value < 0)


def money(value: int, currency: str) -> Money:
    return Money(amount=value, currency=CurrencyCode(currency))


def money_or_none(value: int | None, currency: str) -> Money | None:
    return None if value is None else money(value, currency)


@strawberry.type(description="An amount of real money, in rubles.")
class Rubles:
    kopecks: int = strawberry.field(description="The amount in kopecks (100 to a ruble).")

    @strawberry.field(description='In the request\'s language: "12,50 ₽", "₽12.50".')
    def text(self, info: strawberry.Info[Context, None]) -> str:
        return rubles(self.kopecks, info.context.locale)


def rubles_or_none(kopecks: int | None) -> Rubles | None:
    return None if kopecks is None else Rubles(kopecks=kopecks)
