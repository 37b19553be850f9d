"""Every error code a client can receive has its message in English and Russian."""

from __future__ import annotations

import graphql

from bff.graphql.schema import build_schema
from bff.kernel.i18n import MESSAGES, SUPPORTED, message, negotiate_locale
from bff.levels.service import perk_title


def test_every_user_error_code_has_both_messages():
    schema = build_schema()._schema
    codes = {
        (name, value)
        for name, kind in schema.type_map.items()
        if name.endswith("ErrorCode") and isinstance(kind, graphql.GraphQLEnumType)
        for value in kind.values
    }
    assert len(codes) > 40  # every domain's enum was found
    missing = sorted(pair for pair in codes if set(MESSAGES.get(pair[1], {})) != {"en", "ru"})
    assert missing == []


def test_messages_fill_their_parameters_and_survive_missing_ones():
    params = {"currency": "COINS", "available": 5, "requested": 9}
    assert message("INSUFFICIENT_FUNDS", "en", params) == "Not enough COINS: 5 available, 9 needed."
    assert message("INSUFFICIENT_FUNDS", "ru", {}).startswith("Недостаточно средств")
    assert negotiate_locale("de-DE, ru;q=0.8, en;q=0.5") == "ru"


def test_every_message_and_page_word_is_in_every_language():
    from webviews.strings import STRINGS

    assert sorted(k for k, texts in MESSAGES.items() if set(texts) != set(SUPPORTED)) == []
    assert set(STRINGS) == set(SUPPORTED)
    english = set(STRINGS["en"])
    assert {locale: set(words) ^ english for locale, words in STRINGS.items()} == {
        locale: set() for locale in SUPPORTED
    }


def test_closed_sets_shown_to_people_have_words_in_every_language():
    from bff.marketplace.service import GiftUnavailability
    from bff.partners.models import PartnerCategory

    keys = [f"PARTNER_CATEGORY_{category.name}" for category in PartnerCategory]
    keys += [reason.value for reason in GiftUnavailability]
    assert [key for key in keys if set(MESSAGES.get(key, {})) != set(SUPPORTED)] == []
    seeded_perks = {"free_delivery_slot", "free_dish_swap", "pay_fully_with_points"}
    assert {perk: perk_title(perk, "ru") for perk in seeded_perks} == {
        "free_delivery_slot": "Бесплатный выбор времени доставки",
        "free_dish_swap": "Бесплатная замена блюда",
        "pay_fully_with_points": "Оплата всего заказа баллами",
    }


def test_a_parameter_given_per_language_is_taken_in_the_readers():
    title = {"en": "Cappuccino", "ru": "Капучино"}
    assert message("LEDGER_GIFT", "ru", {"title": title}) == "Подарок: Капучино"
    assert message("LEDGER_GIFT", "en", {"title": title}) == "Gift: Cappuccino"
    assert message("LEDGER_GIFT", "ru", {"title": {"en": "Tea"}}) == "Подарок: Tea"
