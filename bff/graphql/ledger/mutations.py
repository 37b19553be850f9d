"""Ledger mutations: staff corrections and currencies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.customers.service import CustomerService
from bff.graphql.ledger.types import (
    Currency,
    CurrencyCode,
    LedgerEntry,
    LedgerUserError,
    Wallet,
)
from bff.kernel.auth import Role
from bff.kernel.errors import NotFound
from bff.kernel.global_ids import decode_typed_id
from bff.ledger.service import IdempotencyKey, LedgerService, Posting

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="A correction of one customer's balance by staff.")
class BalanceAdjustInput:
    customer_id: strawberry.ID = strawberry.field(description="Global id of the customer.")
    currency: CurrencyCode = strawberry.field(description="Which wallet to correct.")
    amount: int = strawberry.field(
        description="Points to add (positive) or take away (negative); never zero."
    )
    reason: str = strawberry.field(
        description="Why, 3 to 500 characters; the customer sees it in their history."
    )
    idempotency_key: str = strawberry.field(
        description="Unique per correction: a retry with the same key and input returns the "
        "first result; the same key with other input is IDEMPOTENCY_CONFLICT."
    )


@strawberry.type(description="Result of `balanceAdjust`.")
class BalanceAdjustPayload:
    entry: LedgerEntry | None = strawberry.field(description="The correction entry.")
    wallet: Wallet | None = strawberry.field(description="The wallet right after the entry.")
    replayed: bool = strawberry.field(
        description="True when this answers a retry of an earlier, identical request."
    )
    user_errors: list[LedgerUserError] = strawberry.field(
        description="Why nothing was posted; empty on success."
    )


@strawberry.input(description="Turn a currency on or off.")
class CurrencyUpdateInput:
    code: CurrencyCode = strawberry.field(description="Which currency.")
    enabled: bool = strawberry.field(
        description="On: shown in wallets and usable. Off: no new postings (a retired "
        "currency can still be converted away with `loyalty-bff convert-currency`)."
    )


@strawberry.type(description="Result of `currencyUpdate`.")
class CurrencyUpdatePayload:
    currency: Currency | None = strawberry.field(description="The currency now.")
    user_errors: list[LedgerUserError] = strawberry.field(description="Empty on success.")


@strawberry.type
class LedgerMutations:
    @strawberry.mutation(
        description="Staff (role `admin`): run a second currency beside the first, or retire "
        "one. Servers see the change within 10 seconds."
    )
    async def currency_update(
        self, info: strawberry.Info[Context, None], input: CurrencyUpdateInput
    ) -> CurrencyUpdatePayload:
        context = info.context
        context.require_role(Role.ADMIN)
        async with context.db.unit_of_work() as session:
            currency = await LedgerService(session).set_currency_enabled(
                input.code.value, input.enabled
            )
        if currency is None:
            raise NotFound(field=("code",))
        return CurrencyUpdatePayload(
            currency=Currency.from_model(currency, context.locale), user_errors=[]
        )

    @strawberry.mutation(
        description="Staff (role `support`): correct a balance, with the reason and the staff "
        "member stored on the entry."
    )
    async def balance_adjust(
        self, info: strawberry.Info[Context, None], input: BalanceAdjustInput
    ) -> BalanceAdjustPayload:
        context = info.context
        staff = context.require_role(Role.SUPPORT)
        posting = await _adjust(context, input, staff.subject)
        return BalanceAdjustPayload(
            entry=LedgerEntry.from_model(posting.entry),
            wallet=Wallet.from_model(posting.wallet),
            replayed=posting.replayed,
            user_errors=[],
        )


async def _adjust(context: Context, input: BalanceAdjustInput, actor: str) -> Posting:
    customer_id = decode_typed_id(input.customer_id, "Customer")
    if customer_id is None:
        raise NotFound(field=("customerId",))
    async with context.db.unit_of_work() as session:
        await CustomerService(session).get(customer_id)
        return await LedgerService(session).adjust(
            customer_id,
            input.currency.value,
            input.amount,
            reason=input.reason,
            actor=actor,
            idempotency=IdempotencyKey(f"customer:{customer_id}", input.idempotency_key),
        )
