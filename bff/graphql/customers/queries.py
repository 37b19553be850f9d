"""Customer queries: the signed-in customer, and the call-centre lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.customers.repository import CustomerRepository
from bff.graphql.customers.types import (
    Customer,
)
from bff.kernel.auth import Role

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="The signed-in customer; null without a customer token.")
    async def me(self, info: strawberry.Info[Context, None]) -> Customer | None:
        customer_id = await info.context.viewer_customer_id()
        if customer_id is None:
            return None
        customer = await info.context.loaders.customer_by_id.load(customer_id)
        return Customer.from_model(customer) if customer else None

    @strawberry.field(
        description="Staff (role `support`): a customer by the identity provider's subject, "
        "with wallets and history; null if nobody has that subject."
    )
    async def customer_by_external_id(
        self,
        info: strawberry.Info[Context, None],
        external_id: Annotated[str, strawberry.argument(description="The customer's subject.")],
    ) -> Customer | None:
        info.context.require_role(Role.SUPPORT)
        async with info.context.reads.read() as session:
            customer = await CustomerRepository(session).by_external_id(external_id)
        return Customer.from_model(customer) if customer else None
