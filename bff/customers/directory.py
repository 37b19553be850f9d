"""Maps identity-provider subjects to customer ids, creating customers on first sight.

Ids never change once assigned, so a bounded in-process cache saves the lookup on
every request; several processes each keep their own, which is safe.
"""

from __future__ import annotations

from collections import OrderedDict

from bff.customers.service import CustomerService
from bff.db import Database

CACHE_SIZE = 100_000


class CustomerDirectory:
    def __init__(self, db: Database, cache_size: int = CACHE_SIZE) -> None:
        self.db = db
        self.cache_size = cache_size
        self._ids: OrderedDict[str, int] = OrderedDict()

    async def customer_id(self, external_id: str) -> int:
        cached = self._ids.get(external_id)
        if cached is not None:
            self._ids.move_to_end(external_id)
            return cached
        async with self.db.read() as session:
            customer = await CustomerService(session).repository.by_external_id(external_id)
        if customer is None:
            async with self.db.unit_of_work() as session:
                customer = await CustomerService(session).ensure(external_id)
        self._remember(external_id, customer.id)
        return customer.id

    def _remember(self, external_id: str, customer_id: int) -> None:
        self._ids[external_id] = customer_id
        if len(self._ids) > self.cache_size:
            self._ids.popitem(last=False)
