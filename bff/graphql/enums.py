"""Domain enums as GraphQL enums, each value described: the domains declare their enums
once, without GraphQL, and the API layer registers them here."""

from __future__ import annotations

import enum
import re

import strawberry

from bff.kernel.errors import ErrorCode
from bff.kernel.i18n import MESSAGES


def described_enum(
    cls: type[enum.Enum], description: str, values: dict[str, str], name: str | None = None
) -> None:
    """Register ``cls`` with a description for the enum and for each of its values (a
    value without one fails the schema's test)."""
    strawberry.enum(cls, name=name, description=description)
    describe_values(cls, values)


def describe_values(cls: type[enum.Enum], values: dict[str, str]) -> None:
    """Describe each value of an enum strawberry knows (``@strawberry.enum``)."""
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values.get(value.name)


def error_code_enum(codes: type[ErrorCode], description: str) -> None:
    """Register a domain's error codes, each described by its English message (the
    message a client shows in the request's language)."""
    described_enum(codes, description, {code.name: _described(code) for code in codes})


def _described(code: ErrorCode) -> str:
    template = (MESSAGES.get(code.value) or {}).get("en", "")
    # The message's placeholders ({limit}) stand for what extensions carry.
    return re.sub(r"\{(\w+)\}", r"<\1>", template) or code.value.replace("_", " ").lower()
