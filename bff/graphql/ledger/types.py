"""GraphQL types of the ledger."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from bff.graphql.enums import described_enum, error_code_enum
from bff.graphql.errors import UserError
from bff.graphql.futures import answered, mapped
from bff.graphql.ids import ID_DESCRIPTION, Node, key_id, node_id
from bff.graphql.money import Money, money
from bff.kernel.auth import Role
from bff.ledger import models
from bff.ledger.errors import LedgerErrorCode
from bff.ledger.models import MAX_BALANCE
from bff.ledger.reasons import entry_reason

if TYPE_CHECKING:
    from bff.graphql.context import Context

# strawberry.enum registers the domain enums on their classes and returns them as is.
described_enum(
    models.EntryKind,
    "What an entry did to the wallet.",
    {
        "ACCRUAL": "Points earned (an order, a partner, a level reward): a new lot.",
        "SPEND": "Points spent at once.",
        "EXPIRE": "Points whose time ran out.",
        "ADJUST": "A correction by support staff, with their reason.",
        "REVERSE": "Points taken back because the order that earned them was refunded.",
        "HOLD": "Points reserved: `available` drops, the balance stays.",
        "CAPTURE": "Reserved points taken: the balance drops.",
        "RELEASE": "Reserved points given back to `available`.",
        "CONVERT": "Points moved into another currency.",
        "REFUND": "Spent points given back, with the expiry they had.",
    },
    name="LedgerEntryKind",
)
CurrencyCode = models.CurrencyCode  # described in bff.graphql.money, imported above
LedgerEntryKind = models.EntryKind


# The domain's own enum: its codes are declared once, there.
error_code_enum(LedgerErrorCode, "Why a ledger mutation did not happen.")


@strawberry.type(description="A problem with a ledger mutation.")
class LedgerUserError(UserError):
    code: LedgerErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.type(description="A currency the program runs, with its display names.")
class Currency:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)
    code: CurrencyCode = strawberry.field(description="The currency's code.")
    title: str = strawberry.field(description="Display name in the request's language.")
    enabled: bool = strawberry.field(
        description="Shown and usable; a disabled currency takes no new postings."
    )

    @classmethod
    def from_model(cls, currency: models.Currency, locale: str) -> Currency:
        title = currency.title_ru if locale == "ru" else currency.title_en
        return cls(
            id=key_id("Currency", currency.code),
            code=CurrencyCode(currency.code),
            title=title,
            enabled=currency.enabled,
        )


@strawberry.type(description="Points of one lot that expire first.")
class Expiring:
    amount: int = strawberry.field(description="How many points expire at `at`.")
    at: datetime = strawberry.field(description="When they expire (UTC).")


@strawberry.type(description="A customer's balance in one currency.")
class Wallet:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)
    currency: CurrencyCode = strawberry.field(description="The wallet's currency.")
    balance: int = strawberry.field(description="Posted balance, holds included.")
    available: int = strawberry.field(
        description="What can be spent now: `balance` minus points reserved by holds."
    )
    held: int = strawberry.field(description="Points reserved by active holds.")
    version: int = strawberry.field(
        description="Grows by one with every entry; pass it as `expectedVersion` to make a "
        "spend fail if anything was posted after you priced it."
    )
    wallet_id: strawberry.Private[int | None]
    customer_id: strawberry.Private[int]

    # Both answer with their DataLoader's future rather than a coroutine: on a home
    # screen they are four fields of two wallets, and each coroutine cost a task too.
    @strawberry.field(
        description="Accruals waiting in the queue (an order's hold window), not in `balance` "
        "yet; at most 2147483647, the most a wallet may hold.",
        graphql_type=int,
    )
    def pending(self, info: strawberry.Info[Context, None]) -> Awaitable[int]:
        waiting = info.context.loaders.pending_by_customer_id.load(self.customer_id)
        return mapped(waiting, lambda sums: min(sums.get(self.currency.value, 0), MAX_BALANCE))

    @strawberry.field(
        description="Points expiring soonest: the first expiry date and what expires within a day "
        "of it; null if nothing expires.",
        graphql_type=Expiring | None,
    )
    def expiring_soon(self, info: strawberry.Info[Context, None]) -> Awaitable[Expiring | None]:
        if self.wallet_id is None:
            return answered(None)
        found = info.context.loaders.expiring_by_wallet_id.load(self.wallet_id)
        return mapped(
            found, lambda soon: Expiring(amount=soon.amount, at=soon.at) if soon else None
        )

    @classmethod
    def from_model(cls, wallet: models.Wallet) -> Wallet:
        return cls(
            id=key_id("Wallet", wallet.customer_id, wallet.currency),
            currency=CurrencyCode(wallet.currency),
            balance=wallet.balance,
            available=wallet.available,
            held=wallet.held,
            version=wallet.version,
            wallet_id=wallet.id,
            customer_id=wallet.customer_id,
        )

    @classmethod
    def empty(cls, currency: str, customer_id: int) -> Wallet:
        return cls(
            id=key_id("Wallet", customer_id, currency),
            currency=CurrencyCode(currency),
            balance=0,
            available=0,
            held=0,
            version=0,
            wallet_id=None,
            customer_id=customer_id,
        )


described_enum(
    models.SourceType,
    "What caused a ledger entry.",
    {
        "ORDER": "An order event of the ordering system (a refund, a cancellation).",
        "PENDING": "An order's accrual, posted once its hold window passed.",
        "CHECKOUT": "Points paying an order at the till or in the app.",
        "PARTNER": "Points paying at a partner.",
        "PARTNER_EVENT": "A partner reported a completed offer.",
        "MARKETPLACE_PRODUCT": "A gift taken for coins.",
        "LEVEL": "A level's one-time reward.",
        "EXPIRY": "Points expired.",
        "CONVERSION": "A retired currency converted into points.",
        "IMPORT": "A balance imported from the previous system.",
        "STAFF": "A correction by support.",
        "HOLD": "The end of a hold.",
        "DEMO": "Demo data.",
        "OTHER": "Anything else.",
    },
    name="EntrySourceType",
)


def source_type(stored: str) -> models.SourceType:
    return models.SourceType._value2member_map_.get(stored, models.SourceType.OTHER)  # type: ignore[return-value]


@strawberry.type(description="What caused an entry: an order, a partner event, a staff user...")
class LedgerSource:
    type: models.SourceType = strawberry.field(description="Kind of source.")
    id: str | None = strawberry.field(description="The source's own id, where it has one.")


@strawberry.type(description="One immutable posting to a wallet.")
class LedgerEntry(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global id.")
    currency: CurrencyCode = strawberry.field(description="The wallet's currency.")
    kind: LedgerEntryKind = strawberry.field(description="What the entry did.")
    amount: Money = strawberry.field(
        description="Change of the balance: positive credits, negative debits, 0 for holds."
    )
    held_change: Money = strawberry.field(description="Change of the amount reserved by holds.")
    balance_after: Money = strawberry.field(description="The balance right after this entry.")
    version: int = strawberry.field(description="The wallet's version right after this entry.")
    source: LedgerSource | None = strawberry.field(description="What caused the entry.")
    created_at: datetime = strawberry.field(description="When it was posted (UTC).")
    entry_actor: strawberry.Private[str | None]
    row: strawberry.Private[models.LedgerEntry]

    @strawberry.field(
        description="Why, in the request's language (a staff correction: the staff "
        "member's own words)."
    )
    def reason(self, info: strawberry.Info[Context, None]) -> str:
        return entry_reason(self.row, info.context.locale)

    @strawberry.field(
        description="The staff member who posted a correction; visible to staff only."
    )
    def actor(self, info: strawberry.Info[Context, None]) -> str | None:
        return self.entry_actor if info.context.is_staff_with(Role.SUPPORT) else None

    @classmethod
    async def resolve_node(cls, context: Context, pk: int) -> LedgerEntry | None:
        entry = await context.loaders.ledger_entry_by_id.load(pk)
        if entry and await context.may_see_customer(entry.customer_id):
            return cls.from_model(entry)
        return None

    @classmethod
    def from_model(cls, entry: models.LedgerEntry) -> LedgerEntry:
        return cls(
            id=node_id("LedgerEntry", entry.id),
            currency=CurrencyCode(entry.currency),
            kind=LedgerEntryKind(entry.kind),
            amount=money(entry.delta, entry.currency),
            held_change=money(entry.held_delta, entry.currency),
            balance_after=money(entry.balance_after, entry.currency),
            version=entry.version,
            row=entry,
            source=LedgerSource(type=source_type(entry.source_type), id=entry.source_id)
            if entry.source_type
            else None,
            created_at=entry.created_at,
            entry_actor=entry.actor,
        )
