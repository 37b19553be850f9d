"""Relay connections with keyset cursors (the cursor carries the last id seen)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from bff.graphql.errors import BadUserInput
from bff.graphql.execution import SharedSubtree
from bff.kernel.global_ids import MAX_PK

T = TypeVar("T")
M = TypeVar("M")

DEFAULT_PAGE_SIZE = 20
DEFAULT_MAX_PAGE_SIZE = 100  # BFF_MAX_PAGE_SIZE
CURSOR_PREFIX = "k1:"
_PAGE_LIMIT = "bff.page_limit"


def page_limit(maximum: int) -> dict[str, int]:
    """Field metadata for a connection whose ``first`` has a maximum of its own (others
    take BFF_MAX_PAGE_SIZE): ``strawberry.field(..., metadata=page_limit(50))``."""
    return {_PAGE_LIMIT: maximum}


def page_limit_of(field: Any, default: int) -> int:
    """The maximum ``first`` of a GraphQL field built by strawberry."""
    definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    return int(metadata.get(_PAGE_LIMIT, default))


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    has_previous_page: bool = strawberry.field(
        description="Always false: lists page forward only, from the newest item."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")


@strawberry.type(description="An item of a list and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(SharedSubtree, Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more follow.")
    # Set by a page of catalogue rows to what it was read by: the completed page is then
    # shared (bff.graphql.execution); None for anybody's own data.
    shared: strawberry.Private[Hashable | None] = None

    def shared_key(self) -> Hashable | None:
        return self.shared


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        if not raw.startswith(CURSOR_PREFIX):
            raise ValueError(raw)
        position = int(raw[len(CURSOR_PREFIX) :])
        if not 0 <= position <= MAX_PK:
            raise ValueError(raw)
        return position
    except (UnicodeError, ValueError, binascii.Error) as error:
        raise BadUserInput("`after` is not a cursor this API issued") from error


def page_size(first: int | None, maximum: int) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= maximum:
        raise BadUserInput(f"`first` must be between 0 and {maximum}")
    return size


def build_connection(
    rows: Sequence[M], size: int, key: Callable[[M], int], convert: Callable[[M], T]
) -> Connection[T]:
    """``rows`` holds up to ``size + 1`` rows; the extra one only says a next page exists."""
    page = rows[:size]
    edges = [Edge(cursor=encode_cursor(key(row)), node=convert(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


# A history's time window, as its queries take it (levelMovements, cashbackChanges).
Since = Annotated[datetime | None, strawberry.argument(description="From this time on; null: all.")]
Until = Annotated[datetime | None, strawberry.argument(description="Before this time; null: now.")]
