"""Errors the domains raise on purpose.

A ``DomainError`` is an expected outcome: resolvers turn it into a payload's
``userErrors`` entry. Its ``code`` is the member name of the domain's GraphQL
error-code enum, and ``params`` fill the localised message.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "INVALID"
    field: tuple[str, ...] = ()

    def __init__(self, *, field: tuple[str, ...] = (), **params: Any) -> None:
        super().__init__(f"{self.code} {params}" if params else self.code)
        self.field = field or self.field
        self.params = params


class NotFound(DomainError):
    code = "NOT_FOUND"


class MalformedInput(ValueError):
    """A body or a field that is not what the API documents: HTTP 400 ``MALFORMED``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
