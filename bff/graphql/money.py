"""An amount of a program currency, as one object with its words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from bff.graphql.ledger.types import CurrencyCode
from bff.kernel.formatting import amount

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.type(description="An amount of a currency of the program.")
class Money:
    amount: int = strawberry.field(description="Whole units of the currency (points, coins).")
    currency: CurrencyCode = strawberry.field(description="Which currency.")

    @strawberry.field(
        description="The amount in the request's language, in the plural form its number "
        'takes: "1 000 баллов", "2 coins".'
    )
    def text(self, info: strawberry.Info[Context, None]) -> str:
        return amount(self.amount, self.currency.value, info.context.locale)
