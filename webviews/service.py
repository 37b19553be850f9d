"""The hand-off from the native shell to a WebView: one-time codes, cookie sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.config import Settings
from bff.kernel.errors import DomainError
from bff.kernel.types import utcnow
from webviews.errors import WebviewErrorCode
from webviews.models import WebviewCode, WebviewSession
from webviews.repository import WebviewRepository

PREFIX = "/webviews/"
# A path inside the WebViews: letters, digits and -_/ with an optional query string; no
# scheme, host, "//", ".." or backslash, so the redirect can never leave this site.
# fullmatch: "$" would also match before a trailing newline.
SAFE_PATH = re.compile(r"/webviews/[A-Za-z0-9_\-/]*(\?[A-Za-z0-9_\-=&%.]*)?")


class InvalidPath(DomainError):
    code = WebviewErrorCode.INVALID_PATH


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_path(path: str) -> str:
    if len(path) > 500 or not SAFE_PATH.fullmatch(path) or "//" in path or ".." in path:
        raise InvalidPath()
    return path


@dataclass(frozen=True)
class Issued:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    token: str
    path: str
    expires_at: datetime


class WebviewSessions:
    def __init__(
        self,
        session: AsyncSession,
        *,
        code_ttl: timedelta,
        session_ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = WebviewRepository(session)
        self.code_ttl = code_ttl
        self.session_ttl = session_ttl
        self.clock = clock

    @classmethod
    def configured(cls, session: AsyncSession, settings: Settings) -> WebviewSessions:
        """With the lifetimes from ``BFF_WEBVIEW_CODE_SECONDS`` and ``..._SESSION_SECONDS``."""
        return cls(
            session,
            code_ttl=timedelta(seconds=settings.webview_code_seconds),
            session_ttl=timedelta(seconds=settings.webview_session_seconds),
        )

    async def issue_code(self, customer_id: int, path: str) -> Issued:
        """A short-lived, single-use code for ``path``; only its hash is stored."""
        check_path(path)
        code = secrets.token_urlsafe(32)
        expires_at = self.clock() + self.code_ttl
        await self.repository.add(
            WebviewCode(
                code_hash=digest(code),
                customer_id=customer_id,
                path=path,
                expires_at=expires_at,
                created_at=self.clock(),
            )
        )
        return Issued(code, expires_at)

    async def open(self, code: str) -> Opened | None:
        """Trade a code for a session; None when it is unknown, used or expired."""
        now = self.clock()
        used = await self.repository.use_code(digest(code), now)
        if used is None:
            return None
        customer_id, path = used
        token = secrets.token_urlsafe(32)
        expires_at = now + self.session_ttl
        await self.repository.add(
            WebviewSession(
                token_hash=digest(token),
                customer_id=customer_id,
                csrf_token=secrets.token_urlsafe(24),
                expires_at=expires_at,
                created_at=now,
            )
        )
        return Opened(token, path, expires_at)

    async def current(self, token: str | None) -> WebviewSession | None:
        if not token:
            return None
        row = await self.repository.session_by_token(digest(token))
        if row is None or row.expires_at <= self.clock():
            return None
        return row
