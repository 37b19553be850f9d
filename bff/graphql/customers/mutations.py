"""Customer mutations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.customers.service import CustomerService
from bff.graphql.customers.types import (
    Customer,
    CustomerUserError,
)
from bff.kernel.i18n import Locale

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="Profile fields to change; omitted fields stay as they are.")
class CustomerProfileUpdateInput:
    display_name: str | None = strawberry.field(
        default=None, description="Name to greet the customer by (1 to 200 characters)."
    )
    locale: Locale | None = strawberry.field(default=None, description="Preferred language.")


@strawberry.type(description="Result of `customerProfileUpdate`.")
class CustomerProfileUpdatePayload:
    customer: Customer | None = strawberry.field(description="The customer after the change.")
    user_errors: list[CustomerUserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="The signed-in customer changes their own profile.")
    async def customer_profile_update(
        self, info: strawberry.Info[Context, None], input: CustomerProfileUpdateInput
    ) -> CustomerProfileUpdatePayload:
        context = info.context
        customer_id = await context.require_customer()
        async with context.db.unit_of_work() as session:
            customer = await CustomerService(session).update_profile(
                customer_id,
                display_name=input.display_name,
                locale=input.locale.value if input.locale else None,
            )
        return CustomerProfileUpdatePayload(customer=Customer.from_model(customer), user_errors=[])
