"""Schema extensions: limits, caches, error policy and metrics.

The depth and alias rules are built once: rules created per request would be new
classes every time and miss the validation cache (strawberry issue 4635).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from typing import Any

from graphql import ASTValidationRule, ExecutionResult, GraphQLError, StringValueNode
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    MaskErrors,
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.types.graphql import OperationType

from bff.graphql.cost import analyse_query
from bff.graphql.errors import ApiError
from bff.kernel.config import Settings
from bff.kernel.db import database_unavailable
from bff.kernel.metrics import observe_cost, observe_operation

CACHE_SIZE = 1024
INTERNAL = "INTERNAL_SERVER_ERROR"
TOO_COSTLY = "QUERY_TOO_COSTLY"
UNAVAILABLE = "SERVICE_UNAVAILABLE"


class NoNulInStrings(ASTValidationRule):
    """PostgreSQL text cannot hold NUL: a string literal with one is a validation error
    (variables are checked as the request is read, bff.graphql.view)."""

    def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("Strings must not contain NUL characters.", node))


@cache
def validation_rules(
    max_depth: int, max_aliases_count: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    rules: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(max_depth, None, None),
        max_aliases.create_validator(max_aliases_count),
        NoNulInStrings,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def error_code(error: GraphQLError) -> str:
    """The ``extensions.code`` of an error that has none yet."""
    original = error.original_error
    if isinstance(original, ApiError):
        return original.code
    if error.path is not None:
        return INTERNAL
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def should_mask(error: GraphQLError) -> bool:
    """Mask what a resolver raised by accident; keep request errors and our own."""
    original = error.original_error
    if error.path is None or original is None:
        return False
    return not isinstance(original, GraphQLError)


class RequestPolicy(MaskErrors):
    """Limits, error policy and metrics of an operation, in one extension.

    One extension rather than five (token limit, validation rules, cost, masking,
    metrics): strawberry wraps every hook of every extension in a new context manager
    per request, a cost every request pays for each extension.
    """

    def __init__(
        self,
        max_tokens: int,
        max_cost: int,
        rules: tuple[type[ASTValidationRule], ...],
        max_page_size: int,
    ) -> None:
        super().__init__(should_mask_error=should_mask)
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.max_page_size = max_page_size
        self.rules = rules
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        """Refuse a valid query whose cost is over the budget, or whose page sizes are
        out of range, before it runs."""
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            self.cost, refused = analyse_query(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
                self.max_page_size,
            )
            observe_cost(self.cost)
            if refused:
                context.result = ExecutionResult(data=None, errors=refused)
            elif self.cost > self.max_cost:
                context.result = ExecutionResult(data=None, errors=[self._too_costly()])
        yield

    def _too_costly(self) -> GraphQLError:
        return GraphQLError(
            f"This query would cost {self.cost}, over the limit of {self.max_cost}: ask "
            "for fewer items with `first`, or nest fewer connections.",
            extensions={"code": TOO_COSTLY, "cost": self.cost, "limit": self.max_cost},
        )

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "limit": self.max_cost}}

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        started = time.perf_counter()
        yield from super().on_operation()  # the result's errors masked and coded
        result = context.result
        observe_operation(
            context.operation_name,
            time.perf_counter() - started,
            failed=bool(result is not None and getattr(result, "errors", None)),
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if database_unavailable(error.original_error):
            masked.message = "The database is not available right now; retry later."
            masked.extensions = {"code": UNAVAILABLE}
        else:
            masked.extensions = {"code": INTERNAL}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": error_code(error)}
        return processed


class SharedReadsForQueries(SchemaExtension):
    """A query's DataLoaders read through one session (``RequestReads``), closed when the
    operation ends."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if self.execution_context.operation_type is OperationType.QUERY:
            context.reads.share()
        try:
            yield
        finally:
            await context.reads.close()


def build_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    rules = validation_rules(
        settings.max_query_depth, settings.max_aliases, settings.introspection_enabled
    )
    return [
        lambda: RequestPolicy(
            settings.max_tokens, settings.max_query_cost, rules, settings.max_page_size
        ),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        SharedReadsForQueries,
    ]
