"""Errors the domains raise on purpose.

A ``DomainError`` is an expected outcome: the GraphQL API turns it into a payload's
``userErrors`` entry, the signed HTTP APIs into a 422. Its ``code`` is a member of its
domain's ``ErrorCode`` enum, and ``params`` fill the localised message.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """The error codes of one domain: each domain declares one such enum, in its
    ``errors`` module, and everything else derives from it: the API's GraphQL enum of the
    same name, the messages of bff/kernel/i18n.py (a test holds every code to a message in every
    language) and the HTTP status of the signed APIs."""

    @property
    def http_status(self) -> int:
        return 422


class CommonErrorCode(ErrorCode):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"


# Every domain's enum has it: an unknown id, or one the viewer may not see.
NOT_FOUND = CommonErrorCode.NOT_FOUND.value


@dataclasses.dataclass(frozen=True)
class Problem:
    """One of several problems an error reports at once (e.g. one per template field):
    where, the text as it is, and what else the API may show beside it."""

    field: tuple[str, ...]
    text: str
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)


class DomainError(Exception):
    code: ClassVar[ErrorCode] = CommonErrorCode.INVALID
    field: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()  # several at once, each its own userError

    def __init__(self, *, field: tuple[str, ...] = (), **params: Any) -> None:
        super().__init__(f"{self.code} {params}" if params else self.code)
        self.field = field or self.field
        self.params = params


class NotFound(DomainError):
    code = CommonErrorCode.NOT_FOUND


class MalformedInput(ValueError):
    """A body or a field that is not what the API documents: HTTP 400 ``MALFORMED``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object; ``MalformedInput`` otherwise."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedInput("body", "not valid JSON") from error
    if not isinstance(data, dict):
        raise MalformedInput("body", "must be a JSON object")
    refuse_nul(data)
    return data


def text_field(data: dict[str, Any], key: str, limit: int, prefix: str = "") -> str:
    """A string field of 1 to ``limit`` characters; ``MalformedInput`` naming it otherwise."""
    value = data.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise MalformedInput(prefix + key, f"must be a string of 1 to {limit} characters")
    return value


def refuse_nul(value: Any, where: str = "body") -> None:
    """PostgreSQL text cannot hold NUL: a string with one, anywhere in ``value``, is
    malformed input rather than a failed statement."""
    if isinstance(value, str):
        if "\x00" in value:
            raise MalformedInput(where, "must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key, where)
            refuse_nul(item, f"{where}.{key}" if where != "body" else str(key))
    elif isinstance(value, list):
        for item in value:
            refuse_nul(item, where)
