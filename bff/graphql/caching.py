"""HTTP caching of persisted-query GETs (see bff.kernel.etags)."""

from __future__ import annotations

from starlette.responses import Response

from bff.kernel.etags import conditional

VARY = "Authorization, Accept, Accept-Language"


def with_etag(response: Response, if_none_match: str | None, private: bool) -> Response:
    cache = "private, no-cache" if private else "no-cache"
    return conditional(response, if_none_match, {"Cache-Control": cache, "Vary": VARY})
