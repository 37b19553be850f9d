"""Every SQL statement about feature flags."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bff.flags.models import FeatureFlag


class FlagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[FeatureFlag]:
        return (await self.session.scalars(select(FeatureFlag).order_by(FeatureFlag.key))).all()

    async def get(self, key: str) -> FeatureFlag | None:
        return await self.session.get(FeatureFlag, key)

    async def save(self, flag: FeatureFlag) -> None:
        self.session.add(flag)
        await self.session.flush()
