"""Top-level errors (malformed requests, auth), the ``UserError`` interface, and the one
place where a domain error becomes a mutation's ``userErrors``."""

from __future__ import annotations

import enum
from typing import Any, TypeVar, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from bff.kernel.errors import DomainError
from bff.kernel.i18n import message


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
        "code": codes(error.code.value),
        "field": input_path(error.field) if error.field else None,
        "message": message(error.code, locale, error.params),
    }


def input_path(field: tuple[str, ...]) -> list[str]:
    """A domain's field (``expected_version``) as the path of the mutation's input field
    (``["input", "expectedVersion"]``)."""
    return ["input", *(to_camel_case(part) for part in field)]


class UserErrors(FieldExtension):
    """A mutation that raises a ``DomainError`` answers with its payload holding only the
    ``userErrors`` entry for it (its other fields empty: null, false or []). Added to
    every mutation whose payload has ``userErrors`` (``handle_user_errors``), so no
    resolver catches domain errors itself; its unit of work has been rolled back."""

    def apply(self, field: StrawberryField) -> None:
        payload: Any = field.type
        fields = {item.python_name: item for item in payload.__strawberry_definition__.fields}
        errors_type = fields.pop("user_errors").type
        assert isinstance(errors_type, StrawberryList)
        self.error_type: Any = cast(Any, errors_type.of_type)
        definition = self.error_type.__strawberry_definition__
        self.codes: type[enum.Enum] = definition.get_field("code").type.wrapped_cls
        self.empty = {name: _empty(name, item.type) for name, item in fields.items()}
        self.payload = payload

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except DomainError as error:
            errors = [self.error_type(**fields) for fields in self._fields(error, info)]
            return self.payload(**self.empty, user_errors=errors)

    def _fields(self, error: DomainError, info: strawberry.Info) -> list[dict[str, Any]]:
        if not error.problems:
            return [user_error_fields(error, self.codes, info.context.locale)]
        code = self.codes(error.code.value)
        return [
            {"code": code, "field": input_path(p.field), "message": p.text, **p.extra}
            for p in error.problems
        ]


def _empty(name: str, kind: Any) -> Any:
    if isinstance(kind, StrawberryOptional):
        return None
    if isinstance(kind, StrawberryList):
        return []
    if kind is bool:
        return False
    raise TypeError(f"payload field {name!r} has no empty value for a refused mutation")


def handle_user_errors(mutation: type) -> None:
    """Add ``UserErrors`` to each mutation of ``mutation`` whose payload has userErrors."""
    for field in mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        definition = getattr(field.type, "__strawberry_definition__", None)
        if definition is not None and any(
            item.python_name == "user_errors" for item in definition.fields
        ):
            field.extensions.append(UserErrors())
