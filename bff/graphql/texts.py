"""Languages in the schema: the ``Locale`` enum and the translations staff give
catalogue items (partners, offers, gift categories and products, accrual rules)."""

from __future__ import annotations

import strawberry

from bff.graphql.enums import described_enum
from bff.kernel.i18n import Locale
from bff.kernel.texts import Texts

described_enum(
    Locale,
    "A language the service speaks.",
    {"EN": "English.", "RU": "Russian."},
)

FIELDS = ("name", "title", "description", "terms")

TRANSLATIONS = (
    "Texts in other languages, one entry per language; a reader gets their language's "
    "text where one is given and the item's own text where not."
)
TRANSLATIONS_CHANGE = f"{TRANSLATIONS} Given: replaces every translation. Absent: kept."


@strawberry.input(description="An item's texts in one language; give the fields it has.")
class TranslationInput:
    locale: Locale = strawberry.field(description="The language of these texts.")
    name: str | None = strawberry.field(default=None, description="A partner's name.")
    title: str | None = strawberry.field(default=None, description="A title.")
    description: str | None = strawberry.field(default=None, description="A description.")
    terms: str | None = strawberry.field(default=None, description="An offer's fine print.")


@strawberry.type(description="An item's texts in one language, as staff gave them.")
class Translation:
    locale: Locale = strawberry.field(description="The language of these texts.")
    name: str | None = strawberry.field(description="A partner's name.")
    title: str | None = strawberry.field(description="A title.")
    description: str | None = strawberry.field(description="A description.")
    terms: str | None = strawberry.field(description="An offer's fine print.")


def texts_of(translations: list[TranslationInput] | None) -> Texts:
    """The stored form of translations; a later entry for a language adds to an earlier."""
    texts: Texts = {}
    for item in translations or []:
        given = {name: getattr(item, name) for name in FIELDS if getattr(item, name)}
        texts.setdefault(item.locale.value, {}).update(given)
    return {locale: fields for locale, fields in texts.items() if fields}


def translations_of(texts: Texts | None) -> list[Translation]:
    return [
        Translation(
            locale=Locale(locale),
            **{name: fields.get(name) for name in FIELDS},
        )
        for locale, fields in sorted((texts or {}).items())
        if locale in Locale._value2member_map_
    ]
