"""The ``Node`` interface: an object with a global id (bff.kernel.global_ids)."""

from __future__ import annotations

from typing import Any

import strawberry

from bff.kernel.global_ids import encode_id, encode_key


@strawberry.interface(description="An object with a global id, refetchable through `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")

    @classmethod
    async def resolve_node(cls, context: Any, pk: int) -> Node | None:
        """The object with primary key ``pk``, where the viewer (``context``) may see it:
        each type that ``node(id:)`` refetches says how. Someone else's object answers
        exactly like a missing one."""
        return None


def node_id(type_name: str, pk: int) -> strawberry.ID:
    """The global id of a ``type_name`` row, as GraphQL's ``ID``."""
    return strawberry.ID(encode_id(type_name, pk))


def key_id(type_name: str, *key: object) -> strawberry.ID:
    """The global id of an object known by a key rather than a row (``encode_key``)."""
    return strawberry.ID(encode_key(type_name, *key))


ID_DESCRIPTION = "Opaque global id, stable: a client cache's key for this object."
