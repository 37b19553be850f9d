"""Every SQL statement about WebView codes and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from webviews.models import WebviewCode, WebviewSession


class WebviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: WebviewCode | WebviewSession) -> None:
        self.session.add(row)
        await self.session.flush()

    async def use_code(self, code_hash: str, now: datetime) -> tuple[int, str] | None:
        """Mark an unused, unexpired code used: (customer id, path), or None. One
        statement, so two tabs opening the same code cannot both get a session."""
        statement = (
            update(WebviewCode)
            .where(
                WebviewCode.code_hash == code_hash,
                WebviewCode.used_at.is_(None),
                WebviewCode.expires_at > now,
            )
            .values(used_at=now)
            .returning(WebviewCode.customer_id, WebviewCode.path)
        )
        row = (await self.session.execute(statement)).first()
        return (int(row[0]), str(row[1])) if row else None

    async def session_by_token(self, token_hash: str) -> WebviewSession | None:
        return await self.session.get(WebviewSession, token_hash)

    async def forget_expired(self, now: datetime) -> int:
        codes = await self.session.execute(delete(WebviewCode).where(WebviewCode.expires_at <= now))
        sessions = await self.session.execute(
            delete(WebviewSession).where(WebviewSession.expires_at <= now)
        )
        return int(codes.rowcount or 0) + int(sessions.rowcount or 0)  # type: ignore[attr-defined]
