"""Customer DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.customers.models import Customer
from bff.customers.repository import CustomerRepository
from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader


class CustomerLoaders(LoaderSet):
    @cached_property
    def customer_by_id(self) -> DataLoader[int, Customer | None]:
        return DataLoader(partial(_customer_by_id, self.reads))


async def _customer_by_id(reads: Reader, customer_ids: Sequence[int]) -> list[Customer | None]:
    async with reads.read() as session:
        customers = await CustomerRepository(session).by_ids(customer_ids)
    by_id = {customer.id: customer for customer in customers}
    return [by_id.get(customer_id) for customer_id in customer_ids]
