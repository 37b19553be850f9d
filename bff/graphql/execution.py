"""Execution that completes catalogue-only sub-trees once and serves the copy after.

A resolved object that is a :class:`SharedSubtree` promises that everything selectable
below it depends only on catalogue rows and on its ``shared_key`` (the marketplace shelf
depends on the city alone). Walking such a sub-tree is most of a home screen's cost:
graphql-core completes every field of 30 products one by one, the same for every
customer of a city. So the completed value is kept in the catalogue cache, with the same
lifetime and invalidation as the rows it was made from, and the next request with the
same document, variables and key takes it as it is.

A completion that raised a field error is not kept: its error would not be repeated.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Hashable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList

    from bff.graphql.context import Context


class SharedSubtree:
    """Mixed into a GraphQL type whose whole selection is a function of catalogue rows and
    :meth:`shared_key` only; never put a viewer's own data below such a type."""

    def shared_key(self) -> Hashable:
        raise NotImplementedError


class SharingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if not isinstance(result, SharedSubtree):
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        context: Context = self.context_value
        key = self._subtree_key(path, result)
        found, kept = context.catalogue.peek(key)
        if found and kept[0] is self.operation:
            return kept[1]
        generation, errors = context.catalogue.generation, len(self.collected_errors.errors)
        completed = super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )
        if not self.is_awaitable(completed):
            self._keep(context, generation, errors, key, completed)
            return completed
        return self._keep_when_done(context, generation, errors, key, completed)

    def _subtree_key(self, path: Path, result: SharedSubtree) -> Hashable:
        # The cached entry holds the operation node itself, so its id cannot be reused
        # by another document while the entry lives (checked on every hit).
        variables = self.variable_values.coerced
        return (
            "subtree",
            id(self.operation),
            tuple(path.as_list()),
            result.shared_key(),
            json.dumps(variables, sort_keys=True, default=str) if variables else None,
        )

    async def _keep_when_done(
        self,
        context: Context,
        generation: int,
        errors: int,
        key: Hashable,
        completed: Awaitable[Any],
    ) -> Any:
        value = await completed
        self._keep(context, generation, errors, key, value)
        return value

    def _keep(
        self, context: Context, generation: int, errors: int, key: Hashable, value: Any
    ) -> None:
        if len(self.collected_errors.errors) == errors:
            context.catalogue.keep(generation, key, (self.operation, value))
