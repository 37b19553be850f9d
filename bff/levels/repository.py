"""Every SQL statement about levels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.driver import driver_reads, driver_select
from bff.levels.models import CustomerLevel, Level, LevelEvent, LevelReward


class LevelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def levels(self) -> Sequence[Level]:
        if (driver := await driver_reads(self.session)) is not None:
            return await driver.models(Level, _DRIVER_LEVELS)
        return (await self.session.scalars(select(Level).order_by(Level.rank))).all()

    async def standing(self, customer_id: int) -> CustomerLevel | None:
        if (driver := await driver_reads(self.session)) is not None:
            found = await driver.models(CustomerLevel, _DRIVER_STANDINGS, [customer_id])
            return found[0] if found else None
        return await self.session.get(CustomerLevel, customer_id)

    async def standings(self, customer_ids: Sequence[int]) -> Sequence[CustomerLevel]:
        if (driver := await driver_reads(self.session)) is not None:
            return await driver.models(CustomerLevel, _DRIVER_STANDINGS, list(customer_ids))
        result = await self.session.scalars(_STANDINGS, {"ids": list(customer_ids)})
        return result.all()

    async def lock_standing(
        self, customer_id: int, start_level: str, floor: str | None, now: datetime
    ) -> CustomerLevel:
        """The customer's standing, created at the start level when missing, locked."""
        await self.session.execute(
            pg_insert(CustomerLevel)
            .values(
                customer_id=customer_id,
                level_code=start_level,
                floor_code=floor,
                completed_orders=0,
                level_since=now,
                version=0,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["customer_id"])
        )
        result = await self.session.scalars(
            select(CustomerLevel)
            .where(CustomerLevel.customer_id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.one()

    async def save(self, *rows: Any) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()

    async def claim_reward(self, customer_id: int, level_code: str, now: datetime) -> int | None:
        """The reward row's id, or None when this reward was granted before."""
        statement = (
            pg_insert(LevelReward)
            .values(customer_id=customer_id, level_code=level_code, granted_at=now)
            .on_conflict_do_nothing(index_elements=["customer_id", "level_code"])
            .returning(LevelReward.id)
        )
        reward_id: int | None = await self.session.scalar(statement)
        return reward_id

    async def set_reward_entry(self, reward_id: int, entry_id: int) -> None:
        await self.session.execute(
            update(LevelReward).where(LevelReward.id == reward_id).values(entry_id=entry_id)
        )

    async def decay_candidates(self, cutoff: datetime, now: datetime, limit: int) -> Sequence[int]:
        """Customers above their floor whose level is due to decay."""
        inactive = (
            CustomerLevel.postponed_until.is_(None)
            & (CustomerLevel.level_since <= cutoff)
            & (CustomerLevel.last_order_at.is_(None) | (CustomerLevel.last_order_at <= cutoff))
        )
        result = await self.session.scalars(
            select(CustomerLevel.customer_id)
            .where(
                CustomerLevel.level_code != func.coalesce(CustomerLevel.floor_code, ""),
                inactive | (CustomerLevel.postponed_until <= now),
            )
            .order_by(CustomerLevel.customer_id)
            .limit(limit)
        )
        return result.all()

    async def level_reached_by(self, customer_id: int, at: datetime) -> str | None:
        """The level the customer's latest movement before ``at`` left them at."""
        return await self.session.scalar(
            select(LevelEvent.to_level)
            .where(
                LevelEvent.customer_id == customer_id,
                LevelEvent.kind.in_(("up", "down", "backfill")),
                LevelEvent.created_at <= at,
            )
            .order_by(LevelEvent.id.desc())
            .limit(1)
        )

    async def add_event(self, event: LevelEvent) -> None:
        self.session.add(event)

    async def events_page(
        self,
        kinds: Sequence[str],
        since: datetime | None,
        until: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> Sequence[LevelEvent]:
        """Events of these kinds in [since, until), by id after ``after_id``."""
        statement = _events_of(kinds, since, until).order_by(LevelEvent.id).limit(limit)
        if after_id is not None:
            statement = statement.where(LevelEvent.id > after_id)
        return (await self.session.scalars(statement)).all()

    async def count_events(
        self, kinds: Sequence[str], since: datetime | None, until: datetime | None
    ) -> int:
        statement = _events_of(kinds, since, until).with_only_columns(func.count())
        return int(await self.session.scalar(statement) or 0)


def _events_of(kinds: Sequence[str], since: datetime | None, until: datetime | None) -> Any:
    statement = select(LevelEvent).where(LevelEvent.kind.in_(list(kinds)))
    if since is not None:
        statement = statement.where(LevelEvent.created_at >= since)
    if until is not None:
        statement = statement.where(LevelEvent.created_at < until)
    return statement


# Read on every signed-in home screen: built once (see the ledger's repository).
_STANDINGS = select(CustomerLevel).where(
    CustomerLevel.customer_id.in_(bindparam("ids", expanding=True))
)
# Its twin on the driver (bff.kernel.driver; tests/test_driver_reads.py).
_DRIVER_LEVELS = driver_select(Level, "true ORDER BY rank")
_DRIVER_STANDINGS = driver_select(CustomerLevel, "customer_id = ANY($1::bigint[])")
