"""Relay global ids: opaque base64url of ``Type:pk``, the same in GraphQL and the HTTP
APIs."""

from __future__ import annotations

import base64
import binascii

# Primary keys are PostgreSQL bigints: a larger number names nothing, and would fail the
# statement that looked for it.
MAX_PK = 2**63 - 1


class MalformedId(ValueError):
    pass


def encode_id(type_name: str, pk: int) -> str:
    raw = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_id(global_id: str) -> tuple[str, int]:
    """``(type name, primary key)``; ``MalformedId`` for anything we did not issue."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        type_name, _, pk = raw.partition(":")
        number = int(pk)
    except (UnicodeError, ValueError, binascii.Error) as error:
        raise MalformedId(global_id) from error
    if not type_name or not 0 < number <= MAX_PK or str(number) != pk:
        raise MalformedId(global_id)
    return type_name, number


def decode_typed_id(global_id: str, type_name: str) -> int | None:
    """The primary key if ``global_id`` names a ``type_name``; otherwise None."""
    try:
        found_type, pk = decode_id(global_id)
    except MalformedId:
        return None
    return pk if found_type == type_name else None
