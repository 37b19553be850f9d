"""What a query may cost, computed from its document before it runs.

The rule, as the big public GraphQL APIs state theirs: every field that returns an
object costs 1, a scalar costs nothing, and a connection costs 1 plus its page size
(`first`, or its default) times the cost of what it selects for each item. Lists that
are not connections (a customer's wallets, the feature flags) are small by the domain's
own rules and count once. Depth, aliases and tokens are limited by validation; the cost
is what bounds the work behind nested connections, which those limits let through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import get_operation_ast

from bff.graphql.pagination import DEFAULT_MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, page_limit_of

PAGE_ARGUMENT = "first"
META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


def is_connection(type_: GraphQLCompositeType) -> bool:
    return isinstance(type_, GraphQLObjectType) and {"edges", "pageInfo"} <= type_.fields.keys()


@dataclass
class _CostWalk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    defaults: Mapping[str, Any]
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE
    # A fragment spread many times is walked once per type it is spread on: spreads of
    # spreads would otherwise multiply the work of counting.
    fragment_costs: dict[tuple[str, str], int] = field(default_factory=dict)
    # Page sizes out of their connection's range, found on the way.
    refused: list[GraphQLError] = field(default_factory=list)

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, parent)
        return total

    def fragment(self, name: str, parent: Any) -> int:
        key = (name, getattr(parent, "name", ""))
        if key not in self.fragment_costs:
            self.fragment_costs[key] = 0  # validation refuses cycles; this only guards
            definition = self.fragments.get(name)
            if definition is not None:
                inner = self.schema.get_type(definition.type_condition.name.value) or parent
                self.fragment_costs[key] = self.selections(definition.selection_set, inner)
        return self.fragment_costs[key]

    def field(self, node: FieldNode, parent: Any) -> int:
        definition = self._definition(node.name.value, parent)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        inner = self.selections(node.selection_set, named)
        if is_connection(named):
            return 1 + self.page_size(node, definition) * inner
        return 1 + inner

    def _definition(self, name: str, parent: Any) -> GraphQLField | None:
        if name in META_FIELDS:
            return META_FIELDS[name]
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            found: GraphQLField | None = parent.fields.get(name)
            return found
        return None

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        value: Any = None
        for argument in node.arguments or ():
            if argument.name.value != PAGE_ARGUMENT:
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                name = argument.value.name.value
                value = self.variables.get(name, self.defaults.get(name))
        if value is None:
            declared = definition.args.get(PAGE_ARGUMENT)
            value = getattr(declared, "default_value", None)
        if not isinstance(value, int) or isinstance(value, bool):
            return DEFAULT_PAGE_SIZE
        maximum = page_limit_of(definition, self.max_page_size)
        if not 0 <= value <= maximum:
            text = f"`first` of `{node.name.value}` must be between 0 and {maximum}"
            self.refused.append(GraphQLError(text, node, extensions={"code": "BAD_USER_INPUT"}))
        return max(int(value), 0)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation that would run; 0 when there is none to run."""
    return analyse_query(schema, document, operation_name, variables)[0]


def analyse_query(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE,
) -> tuple[int, list[GraphQLError]]:
    """The operation's cost, and its page sizes out of range: refused before anything
    runs, so that a bad `first` deep in a query does not null out its parents."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0, []
    root = schema.get_root_type(operation.operation)
    walk = _CostWalk(
        schema,
        {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        },
        variables or {},
        _variable_defaults(operation),
        max_page_size,
    )
    return walk.selections(operation.selection_set, root), walk.refused


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for variable in operation.variable_definitions or ():
        if isinstance(variable.default_value, IntValueNode):
            defaults[variable.variable.name.value] = int(variable.default_value.value)
    return defaults
