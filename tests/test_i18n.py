"""Every error code a client can receive has its message in English and Russian."""

from __future__ import annotations

import graphql

from bff.graphql.schema import build_schema
from bff.kernel.i18n import MESSAGES, message, negotiate_locale


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
