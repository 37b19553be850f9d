"""Maps identity-provider subjects to customer ids, creating customers on first sight.

Ids never change once assigned, so a bounded in-process cache saves the lookup on
every request; several processes each keep their own, which is safe.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from bff.customers.models import Customer
from bff.customers.service import CustomerService
from bff.kernel.db import Database, Reader

CACHE_SIZE = 100_000


class CustomerDirectory:
    def __init__(self, db: Database, cache_size: int = CACHE_SIZE) -> None:
        self.db = db
        self.cache_size = cache_size
        self._ids: OrderedDict[str, int] = OrderedDict()

    async def customer_id(
        self,
        external_id: str,
        reader: Reader | None = None,
        loaded: Callable[[Customer], object] = lambda _customer: None,
    ) -> int:
        """The id, read through ``reader`` (a request's reads) on a miss; a customer row read
        or created on the way is handed to ``loaded`` so the request need not read it again."""
        cached = self._ids.get(external_id)
        if cached is not None:
            self._ids.move_to_end(external_id)
            return cached
        async with (reader or self.db).read() as session:
            customer = await CustomerService(session).repository.by_external_id(external_id)
        if customer is None:
            async with self.db.unit_of_work() as session:
                customer = await CustomerService(session).ensure(external_id)
        loaded(customer)
        self._remember(external_id, customer.id)
        return customer.id

    def _remember(self, external_id: str, customer_id: int) -> None:
        self._ids[external_id] = customer_id
        if len(self._ids) > self.cache_size:
            self._ids.popitem(last=False)
