"""Turning GraphQL inputs into the keyword arguments services take."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry


def given_fields(
    values: Any, *, skip: tuple[str, ...] = (), renamed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The input's fields that were given (not UNSET), enums as their values, with the
    GraphQL names that differ from column names ``renamed``."""
    renamed = renamed or {}
    return {
        renamed.get(name, name): value.value if isinstance(value, enum.Enum) else value
        for name, value in vars(values).items()
        if name not in skip and value is not strawberry.UNSET
    }
