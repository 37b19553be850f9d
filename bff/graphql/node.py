"""``node(id:)``: refetch any object by global id, only where the viewer may see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.graphql.errors import BadUserInput
from bff.graphql.ids import Node
from bff.kernel.global_ids import MalformedId, decode_id, is_key_id

if TYPE_CHECKING:
    from bff.graphql.context import Context


async def resolve_node(info: strawberry.Info[Context, None], global_id: str) -> Node | None:
    """The type the id names resolves it (``Node.resolve_node``): no list of types here."""
    if is_key_id(global_id):
        return None  # an object known by a key (a wallet, a level) is not refetched
    try:
        type_name, pk = decode_id(global_id)
    except MalformedId as error:
        raise BadUserInput("`id` is not a global id this API issued") from error
    definition = info.schema.get_type_by_name(type_name)
    kind = getattr(definition, "origin", None)
    if not (isinstance(kind, type) and issubclass(kind, Node)):
        return None
    return await kind.resolve_node(info.context, pk)


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global id; null when it does not exist or is not yours."
    )
    async def node(
        self,
        info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id from this API.")],
    ) -> Node | None:
        return await resolve_node(info, id)
