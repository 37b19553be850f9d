"""Top-level errors (malformed requests, auth) and the ``UserError`` interface."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from bff.errors import DomainError
from bff.i18n import message


class ApiError(GraphQLError):
    """An error we raise on purpose; its ``extensions.code`` survives masking."""

    code = "BAD_REQUEST"

    def __init__(self, text: str) -> None:
        super().__init__(text, extensions={"code": self.code})


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


@strawberry.interface(description="An expected problem with a mutation's input or state.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "amount"]; '
        "null when the problem is not tied to one field."
    )
    message: str = strawberry.field(
        description="Text for the person, in the request's Accept-Language (ru or en)."
    )


E = TypeVar("E", bound=enum.Enum)


def user_error_fields(error: DomainError, codes: type[E], locale: str) -> dict[str, Any]:
    """The keyword arguments of a domain's UserError type for ``error``."""
    return {
        "code": codes[error.code],
        "field": ["input", *error.field] if error.field else None,
        "message": message(error.code, locale, error.params),
    }
