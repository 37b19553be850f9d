"""Entity tags for responses clients may cache: ``ETag`` and ``304 Not Modified``.

The answer is still computed, but a client that already holds it gets no body back: on a
phone the transfer is the slow part.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as ``If-None-Match`` asks for."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in candidates


def conditional(response: Response, if_none_match: str | None, headers: dict[str, str]) -> Response:
    """``response`` with an ``ETag`` of its body and ``headers``, or an empty 304 with the
    same headers when the client already holds this body."""
    headers = {**headers, "ETag": entity_tag(bytes(response.body))}
    if matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
