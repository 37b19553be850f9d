"""Execution that completes catalogue sub-trees once and serves the copy after.

A resolved object that is a :class:`SharedSubtree` with a ``shared_key`` promises that
everything selectable below it depends only on catalogue rows and that key (the
marketplace shelf depends on the city alone, a page of offers on its arguments), except
for *viewer fields*: fields marked with :data:`VIEWER` in their metadata, such as an
offer's ``activation``. Walking such a sub-tree is most of a home screen's cost:
graphql-core completes every field of 30 products or 10 offers one by one, the same for
every customer.

So the sub-tree is completed once, with each viewer field left as a :class:`Hole`, and
that template is kept in the catalogue cache, with the same lifetime and invalidation as
the rows it was made from. Every request with the same document, variables and key takes
the template and resolves only its holes, for its own viewer, into a copy.

A completion that raised a field error is not kept: its error would not be repeated.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList

    from bff.graphql.context import Context

VIEWER = "bff_viewer_field"
"""``strawberry.field(metadata={VIEWER: True})``: this field depends on who is asking, so a
shared sub-tree leaves it to each request. It must be nullable, and its resolver should ask
its DataLoader when called (a plain function returning the loader's future, see
``Offer.activation``): the holes of a template are awaited one after another, so an async
resolver would read once per hole."""

_ROOT_KEY = "subtree"


def _execution_finished(*_args: Any) -> Any:
    raise RuntimeError("asynchronous work asked of an execution that has finished")


_FINISHED_HELPERS = GraphQLResolveInfoHelpers(gather=_execution_finished, track=_execution_finished)


class SharedSubtree:
    """Mixed into a GraphQL type whose selection, viewer fields aside, is a function of
    catalogue rows and :meth:`shared_key` only."""

    def shared_key(self) -> Hashable | None:
        """What the sub-tree depends on besides the document; None: do not share it."""
        return None


@dataclass(frozen=True)
class Hole:
    """A viewer field of a kept template, with what it takes to resolve it again."""

    place: tuple[str | int, ...]  # response keys from the shared object down to the field
    parent_type: GraphQLObjectType
    source: Any
    field_details_list: FieldDetailsList
    path: Path
    position_context: Any


@dataclass(frozen=True)
class Template:
    operation: Any  # the document's operation node: its id is in the cache key
    value: dict[str, Any]
    holes: Sequence[Hole]
    kept: bool  # false: its completion raised a field error, so nobody else may use it


@cache
def viewer_fields(schema: GraphQLSchema) -> frozenset[tuple[str, str]]:
    """(type, field) of every field marked :data:`VIEWER`; each must be nullable, since a
    hole cannot null its parent."""
    found = set()
    for type_ in schema.type_map.values():
        for name, field in getattr(type_, "fields", {}).items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if definition is not None and (definition.metadata or {}).get(VIEWER):
                if isinstance(field.type, GraphQLNonNull):
                    raise TypeError(f"viewer field {type_.name}.{name} must be nullable")
                found.add((type_.name, name))
    return frozenset(found)


# complete_object_value's arguments: return type, field details, info, path, result and
# position context.
Completion = tuple[GraphQLObjectType, "FieldDetailsList", GraphQLResolveInfo[Any], Path, Any, Any]


class SharingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._viewer_fields = viewer_fields(self.schema)
        # Shared objects being completed now, by the id of their Path: the holes found.
        self._completing: dict[int, tuple[Path, list[Hole]]] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        # graphql-core's helpers are bound methods of this executor, which holds them: a
        # cycle that left all of a request's objects to the garbage collector, whose
        # pauses made the tail of the home benchmark.
        self.async_helpers = _FINISHED_HELPERS
        return response

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        shared = isinstance(result, SharedSubtree) and result.shared_key() is not None
        if not shared or self._completing_above(path) is not None:
            # Below another shared object, this one is part of that one's template.
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        completion = (return_type, field_details_list, info, path, result, position_context)
        return self._complete_shared(completion, self._subtree_key(path, result), may_wait=True)

    def _complete_shared(self, completion: Completion, key: Hashable, *, may_wait: bool) -> Any:
        """The kept template filled in, or this request's completion of it."""
        return_type, field_details_list, info, path, result, position_context = completion
        context: Context = self.context_value
        found, kept = context.catalogue.peek(key)
        if found and kept.operation is self.operation:
            return self._fill(kept)
        flight = context.catalogue.flight(key)
        if flight is not None and may_wait:  # another request is completing it
            return self._complete_after(flight, completion, key)
        # The object was resolved before its completion began: keep what is made of it
        # only if the catalogue did not change since the request began.
        generation = context.catalogue_generation
        errors = len(self.collected_errors.errors)
        holes: list[Hole] = []
        self._completing[id(path)] = (path, holes)
        try:
            completed = super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except BaseException:
            del self._completing[id(path)]
            raise
        if not self.is_awaitable(completed):
            del self._completing[id(path)]
            template = self._keep(context, generation, errors, key, completed, holes)
            return self._fill(template)
        flight = context.catalogue.begin_flight(key)
        return self._keep_when_done(
            context, generation, errors, key, completed, path, holes, flight
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._completing and (
            (parent_type.name, field_details_list[0].node.name.value) in self._viewer_fields
        ):
            above = self._completing_above(path)
            if above is not None:
                root, holes = above
                place = tuple(path.as_list()[len(root.as_list()) :])
                hole = Hole(place, parent_type, source, field_details_list, path, position_context)
                holes.append(hole)
                return hole
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _completing_above(self, path: Path | None) -> tuple[Path, list[Hole]] | None:
        """The shared object being completed that ``path`` lies in, if any."""
        while path is not None and self._completing:
            found = self._completing.get(id(path))
            if found is not None:
                return found
            path = path.prev
        return None

    def _subtree_key(self, path: Path, result: SharedSubtree) -> Hashable:
        # The cached entry holds the operation node itself, so its id cannot be reused
        # by another document while the entry lives (checked on every hit).
        variables = self.variable_values.coerced
        return (
            _ROOT_KEY,
            id(self.operation),
            tuple(path.as_list()),
            result.shared_key(),
            self.context_value.locale,  # catalogue texts are in the reader's language
            json.dumps(variables, sort_keys=True, default=str) if variables else None,
        )

    async def _keep_when_done(
        self,
        context: Context,
        generation: int,
        errors: int,
        key: Hashable,
        completed: Awaitable[Any],
        path: Path,
        holes: list[Hole],
        flight: asyncio.Future[Any],
    ) -> Any:
        try:
            value = await completed
        except BaseException:
            flight.cancel()  # who waited completes it on their own
            raise
        finally:
            del self._completing[id(path)]
            context.catalogue.end_flight(key, flight)
        template = self._keep(context, generation, errors, key, value, holes)
        flight.set_result(template if template.kept else None)
        filled = self._fill(template)
        return await filled if self.is_awaitable(filled) else filled

    async def _complete_after(
        self, flight: asyncio.Future[Any], completion: Completion, key: Hashable
    ) -> Any:
        """This request's copy of the template another request is completing; completed
        here if that one failed, raised a field error or takes too long."""
        context: Context = self.context_value
        template = await context.catalogue.wait_for_flight(flight)
        if template is None or template.operation is not self.operation:
            answer = self._complete_shared(completion, key, may_wait=False)
        else:
            answer = self._fill(template)
        return await answer if self.is_awaitable(answer) else answer

    def _keep(
        self,
        context: Context,
        generation: int,
        errors: int,
        key: Hashable,
        value: Any,
        holes: list[Hole],
    ) -> Template:
        """The completed template, kept unless its completion raised a field error."""
        kept = value is not None and len(self.collected_errors.errors) == errors
        template = Template(self.operation, value, tuple(holes), kept)
        if kept:
            context.catalogue.keep(generation, key, template)
        return template

    def _fill(self, template: Template) -> Any:
        """The template with each hole resolved for this request's viewer, in a copy."""
        if not template.holes:
            return template.value
        answers = [
            super(SharingExecutionContext, self).execute_field(
                hole.parent_type,
                hole.source,
                hole.field_details_list,
                hole.path,
                hole.position_context,
            )
            for hole in template.holes
        ]
        if any(self.is_awaitable(answer) for answer in answers):
            return self._fill_when_resolved(template, answers)
        return _filled_in(template, answers)

    async def _fill_when_resolved(self, template: Template, answers: list[Any]) -> Any:
        # One after another, without a task each: a viewer field asks its DataLoader when
        # it is resolved (see VIEWER), so all the loads are in one batch already.
        return _filled_in(template, [await a if self.is_awaitable(a) else a for a in answers])


def _filled_in(template: Template, answers: Sequence[Any]) -> dict[str, Any]:
    """A copy of the template's value with each hole's place set to its answer; only the
    containers on the way to a hole are copied."""
    filled = dict(template.value)
    copied = {id(filled)}
    for hole, answer in zip(template.holes, answers, strict=True):
        container: Any = filled
        for step in hole.place[:-1]:
            child = container[step]
            if id(child) not in copied:
                child = dict(child) if isinstance(child, dict) else list(child)
                copied.add(id(child))
                container[step] = child
            container = child
        container[hole.place[-1]] = answer
    return filled
