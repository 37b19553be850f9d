"""Domain errors become userErrors in one place, from each domain's one enum of codes."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import strawberry

import bff
import push
import webviews
from bff.graphql.errors import UserError, handle_user_errors
from bff.kernel.errors import CommonErrorCode, DomainError, ErrorCode
from bff.kernel.i18n import MESSAGES, SUPPORTED
from bff.ledger.errors import LedgerErrorCode


def every_error_code_enum() -> set[type[ErrorCode]]:
    for package in (bff, push, webviews):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.endswith(".errors"):
                importlib.import_module(module.name)
    found, todo = set(), [ErrorCode]
    while todo:
        for child in todo.pop().__subclasses__():
            found.add(child)
            todo.append(child)
    return found


def test_every_code_of_every_domain_has_a_message_in_every_language():
    enums = every_error_code_enum()
    assert len(enums) >= 10  # the common codes and one enum per domain
    missing = sorted(
        f"{codes.__name__}.{code.name}"
        for codes in enums
        for code in codes
        if set(MESSAGES.get(code.value, {})) != set(SUPPORTED)
    )
    assert missing == []


@strawberry.type
class ThingUserError(UserError):
    code: LedgerErrorCode = strawberry.field(description="Why.")


@strawberry.type
class CountPayload:
    count: int = strawberry.field(description="Never empty.")
    user_errors: list[ThingUserError] = strawberry.field(description="Why not.")


@strawberry.type
class ThingPayload:
    thing: str | None = strawberry.field(description="The thing.")
    done: bool = strawberry.field(description="Done.")
    others: list[str] = strawberry.field(description="Others.")
    user_errors: list[ThingUserError] = strawberry.field(description="Why not.")


class Refused(DomainError):
    code = CommonErrorCode.NOT_FOUND
    field = ("thingId",)


@strawberry.type
class CountMutation:
    @strawberry.mutation(description="Count.")
    async def count(self) -> CountPayload:
        raise Refused()


@strawberry.type
class ThingMutation:
    @strawberry.mutation(description="Refuse.")
    async def thing(self) -> ThingPayload:
        raise Refused()


@strawberry.type
class Query:
    ok: bool = True


class Context:
    locale = "ru"


def test_a_payload_field_without_an_empty_value_is_refused_when_the_schema_is_built():
    handle_user_errors(CountMutation)
    with pytest.raises(TypeError, match="payload field 'count' has no empty value"):
        strawberry.Schema(query=Query, mutation=CountMutation)


async def test_a_refused_mutation_answers_with_its_payload_and_nothing_else():
    handle_user_errors(ThingMutation)
    schema = strawberry.Schema(query=Query, mutation=ThingMutation)
    result = await schema.execute(
        "mutation { thing { thing done others userErrors { code field message } } }",
        context_value=Context(),
    )
    assert result.errors is None
    assert result.data == {
        "thing": {
            "thing": None,
            "done": False,
            "others": [],
            "userErrors": [
                {
                    "code": "NOT_FOUND",
                    "field": ["input", "thingId"],
                    "message": MESSAGES["NOT_FOUND"]["ru"],
                }
            ],
        }
    }
