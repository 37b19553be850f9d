"""GraphQL types of customers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from bff.customers import models
from bff.customers.errors import CustomerErrorCode
from bff.graphql.earning.cashback import Cashback, cashback_of
from bff.graphql.enums import error_code_enum
from bff.graphql.errors import BadUserInput, Forbidden, UserError
from bff.graphql.ids import Node, node_id
from bff.graphql.ledger.types import (
    CurrencyCode,
    LedgerEntry,
    Wallet,
)
from bff.graphql.levels.types import (
    LevelStatus,
)
from bff.graphql.marketplace.types import (
    Redemption,
)
from bff.graphql.pagination import Connection, build_connection, decode_cursor, page_size
from bff.graphql.partners.types import (
    Offer,
    offer_connection,
)
from bff.graphql.spending.types import CheckoutCode, SpendablePoints
from bff.kernel.errors import DomainError
from bff.kernel.i18n import SUPPORTED, Locale, message
from bff.kernel.types import utcnow
from bff.ledger.repository import LedgerRepository
from bff.levels.service import Ladder, describe
from bff.marketplace.repository import MarketplaceRepository
from bff.partners.repository import PartnerRepository
from bff.spending.codes import CheckoutCodes
from bff.spending.service import SpendingService

if TYPE_CHECKING:
    from bff.graphql.context import Context


# The domain's own enum: its codes are declared once, there.
error_code_enum(CustomerErrorCode, "Why a customer mutation did not happen.")


@strawberry.type(description="A problem with a customer mutation.")
class CustomerUserError(UserError):
    code: CustomerErrorCode = strawberry.field(description="Machine-readable reason.")


async def wallets_of(context: Context, customer_id: int) -> list[Wallet]:
    """One wallet per enabled currency, through loaders (also for `home`)."""
    currencies = await context.loaders.enabled_currencies.load(None)
    wallets = {
        w.currency: w for w in await context.loaders.wallets_by_customer_id.load(customer_id)
    }
    return [
        Wallet.from_model(wallets[c.code])
        if c.code in wallets
        else Wallet.empty(c.code, customer_id)
        for c in currencies
    ]


async def level_of(context: Context, customer_id: int) -> LevelStatus:
    levels = await context.loaders.levels.load(None)
    row = await context.loaders.standing_by_customer_id.load(customer_id)
    policy = context.policies.levels
    standing = describe(Ladder(levels), row, policy, utcnow())
    return LevelStatus.from_standing(customer_id, standing, context.locale)


@strawberry.type(description="A member of the loyalty program.")
class Customer(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    external_id: str = strawberry.field(
        description="The identity provider's subject for this customer."
    )
    display_name: str | None = strawberry.field(description="Name to greet the customer by.")
    locale: Locale | None = strawberry.field(description="Preferred language.")
    pk: strawberry.Private[int]

    @strawberry.field(
        description="One wallet per currency the program runs, zero where nothing was posted."
    )
    async def wallets(self, info: strawberry.Info[Context, None]) -> list[Wallet]:
        return await wallets_of(info.context, self.pk)

    @strawberry.field(description="The customer's level, the next one, progress and decay.")
    async def level(self, info: strawberry.Info[Context, None]) -> LevelStatus:
        return await level_of(info.context, self.pk)

    @strawberry.field(
        description="The cashback percentage on a brand's orders: its parts, the cap and the "
        "partner product that would raise it most."
    )
    async def cashback(
        self,
        info: strawberry.Info[Context, None],
        brand: Annotated[str, strawberry.argument(description="The brand, e.g. `grocery`.")],
    ) -> Cashback:
        return await cashback_of(info.context, self.pk, brand[:64])

    @strawberry.field(
        description="How many points may pay an order of `amount` kopecks of `brand`, by the "
        'same rule as the tills\' quote: the cart shows "pay up to N points".'
    )
    async def spendable(
        self,
        info: strawberry.Info[Context, None],
        amount: Annotated[int, strawberry.argument(description="The order, in kopecks.")],
        brand: Annotated[str | None, strawberry.argument(description="The order's brand.")] = None,
        currency: Annotated[
            CurrencyCode, strawberry.argument(description="What would pay.")
        ] = CurrencyCode.POINTS,
    ) -> SpendablePoints:
        context = info.context
        level = (await level_of(context, self.pk)).current.code
        try:
            async with context.reads.read() as session:
                found = await SpendingService(session).for_order(
                    self.pk, currency.value, brand, amount, level
                )
        except DomainError as error:
            raise BadUserInput(message(error.code, context.locale, error.params)) from error
        return SpendablePoints.from_domain(found, currency.value)

    @strawberry.field(
        description="A code for the till, valid a minute and good for one payment; only "
        "the customer themselves gets one."
    )
    async def checkout_code(self, info: strawberry.Info[Context, None]) -> CheckoutCode:
        context = info.context
        if await context.require_customer() != self.pk:
            raise Forbidden("only the customer themselves gets a checkout code")
        issued = CheckoutCodes(context.secret_box).issue(self.pk)
        return CheckoutCode(code=issued.code, expires_at=issued.expires_at)

    @strawberry.field(description="Offers the customer activated, oldest first.")
    async def active_offers(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[Offer]:
        size = page_size(first, info.context.settings.max_page_size)
        async with info.context.reads.read() as session:
            rows = await PartnerRepository(session).activated_offers_page(
                self.pk, after_id=decode_cursor(after), limit=size + 1
            )
        return await offer_connection(info.context, rows, size, shared=None)  # their own list

    @strawberry.field(description="Gifts the customer took in the marketplace, newest first.")
    async def redemptions(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`endCursor`.")] = None,
    ) -> Connection[Redemption]:
        size = page_size(first, info.context.settings.max_page_size)
        async with info.context.reads.read() as session:
            rows = await MarketplaceRepository(session).redemptions_page(
                self.pk, after_id=decode_cursor(after), limit=size + 1
            )
        return build_connection(rows, size, lambda r: r.id, Redemption.from_model)

    @strawberry.field(description="Ledger entries, newest first.")
    async def history(
        self,
        info: strawberry.Info[Context, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 20 by default, at most 100.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
        currency: Annotated[
            CurrencyCode | None, strawberry.argument(description="Only this currency's entries.")
        ] = None,
    ) -> Connection[LedgerEntry]:
        context = info.context
        size = page_size(first, context.settings.max_page_size)
        before_id = decode_cursor(after)
        async with context.reads.read() as session:
            rows = await LedgerRepository(session).history_page(
                self.pk,
                limit=size + 1,
                before_id=before_id,
                currency=currency.value if currency else None,
            )
        return build_connection(rows, size, lambda e: e.id, LedgerEntry.from_model)

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> Customer | None:
        customer = await context.loaders.customer_by_id.load(pk)
        if customer and await context.may_see_customer(customer.id):
            return cls.from_model(customer)
        return None

    @classmethod
    def from_model(cls, customer: models.Customer) -> Customer:
        return cls(
            id=node_id("Customer", customer.id),
            external_id=customer.external_id,
            display_name=customer.display_name,
            locale=Locale(customer.locale) if customer.locale in SUPPORTED else None,
            pk=customer.id,
        )
