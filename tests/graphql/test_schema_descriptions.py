"""Every element of the schema a client developer reads in GraphiQL says what it is:
types, fields, arguments, input fields and enum values, and custom scalars say which
specification they follow."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
    specified_scalar_types,
)

from bff.graphql.schema import build_schema


def undescribed() -> list[str]:
    schema = build_schema()._schema
    missing = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if not (type_.description or "").strip():
            missing.append(name)
        if isinstance(type_, GraphQLScalarType) and not type_.specified_by_url:
            missing.append(f"{name} @specifiedBy")
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
                for argument_name, argument in field.args.items():
                    if not (argument.description or "").strip():
                        missing.append(f"{name}.{field_name}({argument_name})")
        if isinstance(type_, GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
        if isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                if not (value.description or "").strip():
                    missing.append(f"{name}.{value_name}")
        assert not isinstance(type_, GraphQLUnionType) or type_.description
    return missing


def test_every_element_of_the_schema_is_described():
    assert undescribed() == []


def test_every_mutation_takes_one_input_and_answers_a_payload_of_its_own():
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    for name, field in mutation.fields.items():
        assert set(field.args) <= {"input"}, name
        payload = get_named_type(field.type)
        assert payload.name == name[0].upper() + name[1:] + "Payload", name
