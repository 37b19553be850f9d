"""Turning GraphQL inputs into the keyword arguments services take."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from bff.graphql.errors import BadUserInput
from bff.graphql.texts import TRANSLATIONS, TRANSLATIONS_CHANGE, TranslationInput, texts_of


def given_fields(
    values: Any,
    *,
    model: Any = None,
    skip: tuple[str, ...] = (),
    renamed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The input's fields that were given (not UNSET), enums as their values, with the
    GraphQL names that differ from column names ``renamed``. With ``model``, an explicit
    null is taken only for a column of it that may be null (it clears it); for any other
    field the request is malformed. Without, the service decides what null means."""
    renamed = renamed or {}
    columns = model.__table__.columns if model is not None else {}
    given = {}
    for name, value in vars(values).items():
        if name in skip or value is strawberry.UNSET:
            continue
        if name == "translations":  # stored as one column; null clears them
            given["texts"] = texts_of(value)
            continue
        column = renamed.get(name, name)
        if value is None and column in columns and not columns[column].nullable:
            raise BadUserInput(f"`{to_camel_case(name)}` cannot be null")
        given[column] = _plain(value)
    return given


def _plain(value: Any) -> Any:
    """Enums (alone or in a list) as their values, the way the domains store them."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


ACTIVE = "False hides it from customers (it is kept, and can be shown again)."
UNCHANGED = " Absent: left as it is."


def describe_changes(update: type, create: type, **own: str) -> None:
    """Describe each field of an ``...UpdateInput`` as the same field of its
    ``...CreateInput`` (or ``own``), absent meaning unchanged: one text per field."""
    created = {
        field.python_name: field.description
        for field in create.__strawberry_definition__.fields  # type: ignore[attr-defined]
    }
    for field in update.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if field.description:
            continue
        text = own.get(field.python_name) or created.get(field.python_name)
        if field.python_name == "active" and not text:
            text = ACTIVE
        field.description = f"{text}{UNCHANGED}" if text else None


def describe_input_arguments(mutation: type) -> None:
    """Each mutation's ``input`` argument says where its fields are described."""
    for field in mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        for argument in field.arguments:
            if argument.python_name == "input" and not argument.description:
                argument.description = "What to do: see the input type's fields."


def translations_field() -> Any:
    """A create input's ``translations``."""
    return strawberry.field(default=None, description=TRANSLATIONS)


def translations_change() -> Any:
    """An update input's ``translations``."""
    return strawberry.field(default=strawberry.UNSET, description=TRANSLATIONS_CHANGE)


Translations = list[TranslationInput] | None
