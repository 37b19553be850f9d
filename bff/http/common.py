"""What every server-to-server endpoint shares: signed bodies, and refusals as JSON.

An endpoint raises ``Refusal`` (or lets a ``DomainError`` or ``MalformedInput`` through);
the exception handlers below, registered once on the app, answer with
``{"error": {"code", "message", ...}}`` and the status that goes with it. A unit of work
that an exception leaves is rolled back, event ids included, so the sender may retry.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bff.kernel.config import Settings
from bff.kernel.db import database_unavailable
from bff.kernel.errors import DomainError, MalformedInput
from bff.kernel.global_ids import MAX_PK
from bff.kernel.i18n import message
from bff.kernel.signing import SignatureError, verify


class Refusal(Exception):
    """An answer other than success: ``status``, a stable ``code`` and a message."""

    def __init__(self, status: int, code: str, text: str, /, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {text}")
        self.status, self.code, self.text, self.extra = status, code, text, extra


def refusal(status: int, code: str, text: str, /, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {**extra, "code": code, "message": text}}, status_code=status)


async def signed_body(request: Request, secret: str) -> bytes:
    """The request body (its size bounded by bff.http.body_limit), if it is signed with
    ``secret``; ``Refusal`` otherwise."""
    body = await request.body()
    check_signature(request, secret, body)
    return body


def check_signature(request: Request, secret: str, body: bytes) -> None:
    settings: Settings = request.app.state.settings
    try:
        verify(
            secret,
            request.headers,
            body,
            now=time.time(),
            window_seconds=settings.signature_window_seconds,
        )
    except SignatureError as error:
        raise Refusal(401, error.code, error.message) from error


def hold_id_in_path(request: Request) -> int:
    """The ``{hold_id}`` of the route, if it could be an id this service issued."""
    raw_id = request.path_params["hold_id"]
    if not raw_id.isascii() or not raw_id.isdigit() or not 0 < int(raw_id) <= MAX_PK:
        raise MalformedInput("hold_id", "must be a hold id this API issued")
    return int(raw_id)


async def _refused(_request: Request, error: Exception) -> Response:
    assert isinstance(error, Refusal)
    return refusal(error.status, error.code, error.text, **error.extra)


async def _malformed(_request: Request, error: Exception) -> Response:
    assert isinstance(error, MalformedInput)
    return refusal(400, "MALFORMED", error.message, field=error.field)


async def _domain_refused(_request: Request, error: Exception) -> Response:
    """A 422 for an expected refusal; its parameters go under ``details``."""
    assert isinstance(error, DomainError)
    text = message(error.code, "en", error.params)
    return refusal(422, error.code, text, details=error.params)


async def _database_unavailable(_request: Request, error: Exception) -> Response:
    """503 while the database is away, so that callers retry; anything else a database
    error means is a bug, and stays a 500."""
    if not database_unavailable(error):
        raise error
    response = refusal(
        503, "SERVICE_UNAVAILABLE", "The database is not available right now; retry later."
    )
    response.headers["retry-after"] = "1"
    return response


EXCEPTION_HANDLERS: Mapping[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    Refusal: _refused,
    MalformedInput: _malformed,
    DomainError: _domain_refused,
    DBAPIError: _database_unavailable,
    SQLAlchemyTimeoutError: _database_unavailable,
    OSError: _database_unavailable,
}
