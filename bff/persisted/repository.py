"""Every SQL statement about persisted queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.types import utcnow
from bff.persisted.models import PersistedQuery


class PersistedQueryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, sha256: str) -> PersistedQuery | None:
        return await self.session.get(PersistedQuery, sha256)

    async def remember(self, sha256: str, document: str, operation_name: str | None) -> None:
        """Keep a document an app registered; a second registration changes nothing."""
        statement = pg_insert(PersistedQuery).values(
            sha256=sha256,
            document=document,
            allowed=False,
            operation_name=operation_name,
            created_at=utcnow(),
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def lock_registrations(self) -> None:
        """Registrations one at a time (until commit), so that their budget holds exactly."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('apq'))"))

    async def count_registered(self, since: datetime | None = None) -> int:
        """Documents apps registered (the operator's allow-list is not counted)."""
        statement = select(func.count()).where(PersistedQuery.allowed.is_(False))
        if since is not None:
            statement = statement.where(PersistedQuery.created_at >= since)
        return int(await self.session.scalar(statement) or 0)

    async def forget_oldest(self, count: int, *, before: datetime) -> int:
        """Delete up to ``count`` of the oldest registrations made before ``before``."""
        oldest = (
            select(PersistedQuery.sha256)
            .where(PersistedQuery.allowed.is_(False), PersistedQuery.created_at < before)
            .order_by(PersistedQuery.created_at)
            .limit(count)
        )
        deleted = await self.session.execute(
            delete(PersistedQuery).where(PersistedQuery.sha256.in_(oldest))
        )
        return int(deleted.rowcount or 0)  # type: ignore[attr-defined]

    async def allowed_among(self, hashes: Sequence[str]) -> set[str]:
        rows = await self.session.scalars(
            select(PersistedQuery.sha256).where(
                PersistedQuery.sha256.in_(hashes), PersistedQuery.allowed.is_(True)
            )
        )
        return set(rows)

    async def allow(self, sha256: str, document: str, operation_name: str | None) -> None:
        """Put a document on the allow-list (registered by an app before or not)."""
        insert = pg_insert(PersistedQuery).values(
            sha256=sha256,
            document=document,
            allowed=True,
            operation_name=operation_name,
            created_at=utcnow(),
        )
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[PersistedQuery.sha256],
                set_={"allowed": True, "operation_name": operation_name},
            )
        )
