"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

READY_TIMEOUT_SECONDS = 2.0


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    db = request.app.state.db
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "postgresql"})
