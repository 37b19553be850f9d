"""Feature flags: on/off, a rollout percentage that is stable per customer, cities."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bff.flags.errors import FlagErrorCode
from bff.flags.models import FeatureFlag
from bff.flags.repository import FlagRepository
from bff.kernel.catalogue import catalogue_changed
from bff.kernel.errors import DomainError
from bff.kernel.types import utcnow

KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class InvalidFlagKey(DomainError):
    code = FlagErrorCode.INVALID_KEY
    field = ("key",)


class InvalidRollout(DomainError):
    code = FlagErrorCode.INVALID_ROLLOUT
    field = ("rollout_percent",)


def bucket(key: str, subject: str) -> int:
    """0..99, the same for a customer and a flag every time, independent across flags."""
    digest = hashlib.sha256(f"{key}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def is_on(flag: FeatureFlag | None, subject: str | None, city: str | None) -> bool:
    """Anonymous visitors get a flag only when it is on for everyone everywhere."""
    if flag is None or not flag.enabled:
        return False
    if flag.cities and city not in flag.cities:
        return False
    if flag.rollout_percent >= 100:
        return True
    return subject is not None and bucket(flag.key, subject) < flag.rollout_percent


class FlagService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = FlagRepository(session)

    async def all(self) -> Sequence[FeatureFlag]:
        return await self.repository.all()

    async def is_enabled(self, key: str, subject: str | None, city: str | None) -> bool:
        return is_on(await self.repository.get(key), subject, city)

    async def set(
        self,
        key: str,
        *,
        enabled: bool,
        rollout_percent: int,
        cities: list[str] | None,
        description: str | None,
        actor: str,
    ) -> FeatureFlag:
        if not KEY.match(key):
            raise InvalidFlagKey()
        if not 0 <= rollout_percent <= 100:
            raise InvalidRollout()
        flag = await self.repository.get(key) or FeatureFlag(key=key, description="")
        flag.enabled = enabled
        flag.rollout_percent = rollout_percent
        flag.cities = sorted({city.strip() for city in cities if city.strip()}) if cities else None
        if description is not None:
            flag.description = description[:500]
        flag.updated_by = actor
        flag.updated_at = utcnow()
        await self.repository.save(flag)
        await catalogue_changed(self.session)
        return flag
