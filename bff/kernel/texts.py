"""Catalogue texts in each supported language.

A row's ``texts`` column holds translations, ``{"ru": {"title": ...}}``; its own
columns (``title``, ``description``...) are what a reader gets in any language without
one.
"""

from __future__ import annotations

from collections.abc import Mapping

from bff.kernel.i18n import SUPPORTED

Texts = dict[str, dict[str, str]]


def localized(row: object, name: str, locale: str) -> str:
    """Field ``name`` of ``row`` in ``locale``, falling back to the row's own column."""
    texts: Mapping[str, Mapping[str, str]] = getattr(row, "texts", None) or {}
    return texts.get(locale, {}).get(name) or str(getattr(row, name) or "")


def every_language(row: object, name: str) -> dict[str, str]:
    """Field ``name`` in each supported language, e.g. as a ledger reason's parameter."""
    return {locale: localized(row, name, locale) for locale in SUPPORTED}


def translations_valid(texts: Texts, limits: Mapping[str, int]) -> bool:
    """Whether ``texts`` name supported languages and only fields the row translates,
    each no longer than its limit in ``limits``."""
    return all(
        locale in SUPPORTED
        and all(
            name in limits and len(value) <= limits[name] and "\x00" not in value
            for name, value in fields.items()
        )
        for locale, fields in texts.items()
    )
