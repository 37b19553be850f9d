"""Amounts read as people say them: Babel's plural rules, number and date formats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel import Locale

from bff.kernel.formatting import CURRENCY_WORDS, amount, date, percent, rubles
from bff.kernel.i18n import SUPPORTED

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "currency", "locale", "expected"),
    [
        (1, "POINTS", "ru", "1 балл"),
        (2, "POINTS", "ru", "2 балла"),
        (5, "POINTS", "ru", "5 баллов"),
        (21, "POINTS", "ru", "21 балл"),
        (1000, "POINTS", "ru", f"1{NBSP}000 баллов"),
        (1, "COINS", "ru", "1 монета"),
        (3, "COINS", "ru", "3 монеты"),
        (11, "COINS", "ru", "11 монет"),
        (1, "POINTS", "en", "1 point"),
        (1000, "COINS", "en", "1,000 coins"),
    ],
)
def test_amounts_take_the_plural_form_of_their_number(value, currency, locale, expected):
    assert amount(value, currency, locale) == expected


def test_signed_amounts_say_plus_and_minus():
    assert amount(150, "POINTS", "ru", signed=True) == "+150 баллов"
    assert amount(-2, "COINS", "en", signed=True) == "−2 coins"


def test_every_currency_has_a_word_for_every_plural_form_of_every_language():
    for currency, languages in CURRENCY_WORDS.items():
        assert set(languages) == set(SUPPORTED), currency
        for locale, words in languages.items():
            needed = Locale.parse(locale).plural_form.tags | {"other"}
            assert needed <= set(words), (currency, locale)


def test_dates_follow_the_language():
    moment = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert date(moment, "ru") == "3 дек. 2026\u202fг."  # a narrow no-break space
    assert date(moment, "en") == "Dec 3, 2026"


def test_rubles_and_percentages_follow_the_language():
    assert rubles(123_450, "ru") == f"1{NBSP}234,50{NBSP}₽"
    assert rubles(123_450, "en") == "₽1,234.50"
    assert percent(5.0, "ru") == f"5{NBSP}%"
    assert percent(2.5, "en") == "2.5%"
