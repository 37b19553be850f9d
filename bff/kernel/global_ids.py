"""Relay global ids: opaque base64url of ``Type:pk``, the same in GraphQL and the HTTP
APIs."""

from __future__ import annotations

import base64
import binascii
import re

# Primary keys are PostgreSQL bigints: a larger number names nothing, and would fail the
# statement that looked for it.
MAX_PK = 2**63 - 1


class MalformedId(ValueError):
    pass


def encode_id(type_name: str, pk: int) -> str:
    raw = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_key(type_name: str, *key: object) -> str:
    """The global id of an object that is not one row (a customer's wallet of a currency,
    which exists before its row does; a level by its code): stable and unique per type,
    for clients' caches. ``node`` does not refetch it."""
    raw = ":".join([type_name, *(str(part) for part in key)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_KEY_ID = re.compile(r"[A-Z][A-Za-z]{0,63}:[^:]+(:[^:]+)+|[A-Z][A-Za-z]{0,63}:[A-Z][A-Z_]*")


def is_key_id(global_id: str) -> bool:
    """Whether ``global_id`` is one of ``encode_key``'s (decode_id refuses them)."""
    try:
        raw = base64.urlsafe_b64decode((global_id + "=" * (-len(global_id) % 4)).encode("ascii"))
        return _KEY_ID.fullmatch(raw.decode()) is not None
    except (UnicodeError, ValueError, binascii.Error):
        return False


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
