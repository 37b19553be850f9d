"""Amounts, numbers and dates in the reader's language, with Babel's plural rules
(1 балл, 2 балла, 5 баллов) and number and date formats."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

# The words for an amount of each currency, per plural category of each language.
CURRENCY_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "POINTS": {
        "en": {"one": "point", "other": "points"},
        "ru": {"one": "балл", "few": "балла", "many": "баллов", "other": "балла"},
    },
    "COINS": {
        "en": {"one": "coin", "other": "coins"},
        "ru": {"one": "монета", "few": "монеты", "many": "монет", "other": "монеты"},
    },
    "LEGACY": {
        "en": {"one": "bonus ruble", "other": "bonus rubles"},
        "ru": {
            "one": "бонусный рубль",
            "few": "бонусных рубля",
            "many": "бонусных рублей",
            "other": "бонусного рубля",
        },
    },
}


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def number(value: int, locale: str) -> str:
    """``1 000`` in Russian (a no-break space), ``1,000`` in English."""
    return format_decimal(value, locale=locale)


def percent(value: float, locale: str) -> str:
    """``5%`` in English, ``5 %`` in Russian; ``2.5`` keeps its decimal."""
    return format_percent(value / 100, locale=locale, decimal_quantization=False)


def amount(value: int, currency: str, locale: str, *, signed: bool = False) -> str:
    """``+1 000 баллов``, ``2 coins``: the number in the locale's format and the currency's
    word in the plural form the number takes."""
    words = CURRENCY_WORDS.get(currency, {}).get(locale)
    text = number(abs(value), locale)
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else ""
    if words is None:
        return f"{sign}{text} {currency}"
    word = words.get(_locale(locale).plural_form(abs(value)), words["other"])
    return f"{sign}{text} {word}"


def rubles(kopecks: int, locale: str) -> str:
    """``12,50 ₽`` in Russian, ``₽12.50`` in English (whose data would say ``RUB12.50``)."""
    return format_currency(kopecks / 100, "RUB", locale=locale).replace("RUB", "₽")


def date(value: datetime | None, locale: str) -> str:
    """The medium date of the locale (``Dec 3, 2026`` in English)."""
    return "" if value is None else format_date(value, format="medium", locale=locale)
