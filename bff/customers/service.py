"""Customer rules: created on first sight from the identity provider's subject."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.errors import CustomerErrorCode
from bff.customers.models import Customer
from bff.customers.repository import CustomerRepository
from bff.kernel.errors import DomainError, NotFound
from bff.kernel.i18n import SUPPORTED

MAX_EXTERNAL_ID = 255
MAX_NAME = 200


class DisplayNameInvalid(DomainError):
    code = CustomerErrorCode.DISPLAY_NAME_INVALID
    field = ("display_name",)


class LocaleUnsupported(DomainError):
    code = CustomerErrorCode.LOCALE_UNSUPPORTED
    field = ("locale",)


class CustomerService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = CustomerRepository(session)

    async def ensure(self, external_id: str) -> Customer:
        """The customer with this subject, created if this is the first time we see it."""
        if not 0 < len(external_id) <= MAX_EXTERNAL_ID:
            raise ValueError("external id must be 1 to 255 characters")
        customer = await self.repository.by_external_id(external_id)
        if customer is None:
            await self.repository.insert_if_missing(external_id)
            customer = await self.repository.by_external_id(external_id)
        assert customer is not None
        return customer

    async def find(self, external_id: str) -> Customer | None:
        """The customer with this subject, if we have seen it."""
        return await self.repository.by_external_id(external_id)

    async def ids_of(self, external_ids: Sequence[str]) -> dict[str, int]:
        """Ids of the customers seen so far, by subject."""
        return await self.repository.ids_by_external_ids(external_ids)

    async def external_ids(self, customer_ids: Sequence[int]) -> dict[int, str]:
        """Subjects of these customers, by id."""
        customers = await self.repository.by_ids(sorted(set(customer_ids)))
        return {customer.id: customer.external_id for customer in customers}

    async def ensure_many(self, external_ids: Sequence[str]) -> dict[str, int]:
        """Ids by subject, creating the customers seen for the first time."""
        return await self.repository.ensure_many(external_ids)

    async def find_by_id(self, customer_id: int) -> Customer | None:
        return await self.repository.by_id(customer_id)

    async def get(self, customer_id: int) -> Customer:
        customer = await self.repository.by_id(customer_id)
        if customer is None:
            raise NotFound(field=("customer_id",))
        return customer

    async def set_city(self, customer_id: int, city: str) -> None:
        """The city of the latest order: flags and segments target customers by it."""
        customer = await self.get(customer_id)
        if customer.city != city:
            customer.city = city[:64]
            await self.repository.save(customer)

    async def update_profile(
        self, customer_id: int, *, display_name: str | None, locale: str | None
    ) -> Customer:
        customer = await self.get(customer_id)
        if display_name is not None:
            name = display_name.strip()
            if not 0 < len(name) <= MAX_NAME:
                raise DisplayNameInvalid()
            customer.display_name = name
        if locale is not None:
            if locale not in SUPPORTED:
                raise LocaleUnsupported()
            customer.locale = locale
        await self.repository.save(customer)
        return customer
