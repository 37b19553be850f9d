"""Customer DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from bff.customers.models import Customer
from bff.customers.repository import CustomerRepository
from bff.db import Reader


class CustomerLoaders:
    def __init__(self, db: Reader) -> None:
        self.db = db

    async def customer_by_id(self, customer_ids: Sequence[int]) -> list[Customer | None]:
        async with self.db.read() as session:
            customers = await CustomerRepository(session).by_ids(customer_ids)
        by_id = {customer.id: customer for customer in customers}
        return [by_id.get(customer_id) for customer_id in customer_ids]
