"""Request bodies bounded while they arrive, before any endpoint sees them.

A declared ``Content-Length`` over the route's limit is refused at once, unread; a body
sent without one (chunked) is counted as it streams and refused as soon as it passes the
limit. Either way the answer is a 413 with ``{"error": {"code": "TOO_LARGE"}}``.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
PARTNER_EVENTS_LIMIT = 4 * KIB * KIB  # a batch of up to 500 events
SIGNED_LIMIT = 256 * KIB  # every other signed request
GRAPHQL_LIMIT = 256 * KIB
FORM_LIMIT = 4 * KIB  # the WebViews' forms, and anything else


def limit_for(path: str) -> int:
    """The largest body ``path`` takes."""
    if path.startswith("/api/partners/") and path.endswith("/events"):
        return PARTNER_EVENTS_LIMIT
    if path.startswith("/api/"):
        return SIGNED_LIMIT
    if path.startswith("/graphql"):
        return GRAPHQL_LIMIT
    return FORM_LIMIT


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"bodies are limited to {limit} bytes")
        self.limit = limit


def too_large(limit: int) -> JSONResponse:
    message = f"bodies are limited to {limit} bytes"
    return JSONResponse({"error": {"code": "TOO_LARGE", "message": message}}, status_code=413)


class BodyLimit:
    """ASGI middleware: the outermost of the app's own, so an endpoint never reads past it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await too_large(limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # the server refuses those
    return None
