"""The ``Node`` interface: an object with a global id (bff.global_ids)."""

from __future__ import annotations

import strawberry

from bff.global_ids import encode_id


@strawberry.interface(description="An object with a global id, refetchable through `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")


def node_id(type_name: str, pk: int) -> strawberry.ID:
    """The global id of a ``type_name`` row, as GraphQL's ``ID``."""
    return strawberry.ID(encode_id(type_name, pk))
