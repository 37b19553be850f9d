"""HTTP caching of persisted-query GETs: an ``ETag`` and ``304 Not Modified``.

The answer is still computed (it may depend on the customer's balance), but an app that
already holds it gets no body back: on a phone the transfer is the slow part.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

VARY = "Authorization, Accept, Accept-Language"


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


def with_etag(response: Response, if_none_match: str | None, private: bool) -> Response:
    etag = entity_tag(bytes(response.body))
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache" if private else "no-cache",
        "Vary": VARY,
    }
    if matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
