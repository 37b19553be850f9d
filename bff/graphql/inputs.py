"""Turning GraphQL inputs into the keyword arguments services take."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from bff.graphql.errors import BadUserInput


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
        column = renamed.get(name, name)
        if value is None and column in columns and not columns[column].nullable:
            raise BadUserInput(f"`{to_camel_case(name)}` cannot be null")
        given[column] = value.value if isinstance(value, enum.Enum) else value
    return given
