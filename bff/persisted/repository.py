"""Every SQL statement about persisted queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
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
