"""Every SQL statement about customers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.models import Customer
from bff.kernel.driver import driver_reads, driver_select
from bff.kernel.types import utcnow


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_external_id(self, external_id: str) -> Customer | None:
        if (driver := await driver_reads(self.session)) is not None:
            found = await driver.models(Customer, _DRIVER_BY_EXTERNAL_ID, external_id)
            return found[0] if found else None
        result = await self.session.scalars(
            select(Customer).where(Customer.external_id == external_id)
        )
        return result.first()

    async def by_id(self, customer_id: int) -> Customer | None:
        return await self.session.get(Customer, customer_id)

    async def by_ids(self, customer_ids: Sequence[int]) -> Sequence[Customer]:
        if (driver := await driver_reads(self.session)) is not None:
            return await driver.models(Customer, _DRIVER_BY_IDS, list(customer_ids))
        result = await self.session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))
        return result.all()

    async def insert_if_missing(self, external_id: str) -> None:
        await self.session.execute(
            pg_insert(Customer)
            .values(external_id=external_id, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["external_id"])
        )

    async def ids_by_external_ids(self, external_ids: Sequence[str]) -> dict[str, int]:
        """Ids of the customers known by these external ids (the others are absent)."""
        wanted = sorted(set(external_ids))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(Customer.external_id, Customer.id).where(Customer.external_id.in_(wanted))
        )
        return {external_id: customer_id for external_id, customer_id in rows.all()}

    async def ensure_many(self, external_ids: Sequence[str]) -> dict[str, int]:
        """Customer ids by external id, creating the customers not seen before."""
        wanted = sorted(set(external_ids))
        if not wanted:
            return {}
        now = utcnow()
        # executemany of one cached statement: a multi-row VALUES would be compiled anew
        connection = await self.session.connection()
        await connection.execute(
            pg_insert(Customer).on_conflict_do_nothing(index_elements=["external_id"]),
            [{"external_id": external_id, "created_at": now} for external_id in wanted],
        )
        return await self.ids_by_external_ids(wanted)

    async def save(self, customer: Customer) -> None:
        await self.session.flush()


# Read on every request that needs the viewer's row; twins of `by_external_id` and
# `by_ids` on the driver (bff.kernel.driver; tests/test_driver_reads.py).
_DRIVER_BY_EXTERNAL_ID = driver_select(Customer, "external_id = $1")
_DRIVER_BY_IDS = driver_select(Customer, "id = ANY($1::bigint[])")
