"""The ledger's rules. Nothing here commits: the caller owns the transaction.

Every write locks the wallet row first (``SELECT ... FOR UPDATE``, or the conditional
``UPDATE`` that takes the row lock itself) and saves it with a version check, so two
writers can never both act on the same balance.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.catalogue import catalogue_changed
from bff.kernel.types import Window, utcnow
from bff.ledger.bulk import Accrual, post_accruals
from bff.ledger.errors import (
    BalanceLimitReached,
    CaptureExceedsHold,
    CurrencyDisabled,
    HoldExpired,
    HoldNotActive,
    HoldNotCaptured,
    IdempotencyConflict,
    IdempotencyKeyInvalid,
    InsufficientFunds,
    InvalidAmount,
    NotFound,
    ReasonRequired,
    RefundExceedsCapture,
    VersionConflict,
    ZeroAmount,
)
from bff.ledger.models import (
    BALANCE_LIMIT_CONSTRAINT,
    MAX_BALANCE,
    Currency,
    EntryKind,
    Hold,
    HoldStatus,
    IdempotencyRecord,
    LedgerEntry,
    Lot,
    Wallet,
)
from bff.ledger.reasons import Reason
from bff.ledger.repository import Change, LedgerRepository, NewLot, entry_values

# GraphQL Int is 32-bit: one posting stays well inside it.
MAX_AMOUNT = 100_000_000
# Refunded points whose original expiry has passed come back for this long: they were
# spent in time, and a refund that expired at once would give nothing back.
REFUND_GRACE = timedelta(days=30)
MAX_KEY_LENGTH = 255
REASON_LENGTH = range(3, 501)
EXPIRY_REASON = Reason("LEDGER_POINTS_EXPIRED")
HOLD_EXPIRY_REASON = Reason("LEDGER_HOLD_EXPIRED")
# A refused change is retried only when nothing explains the refusal (a wallet created
# or changed by a concurrent writer meanwhile); three tries are plenty for that.
CHANGE_ATTEMPTS = 3

R = TypeVar("R")


@dataclass(frozen=True)
class Source:
    """What caused a posting: an order, a partner event, an offer, a staff user..."""

    type: str
    id: str | None = None


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key; ``scope`` says whose key space it lives in (e.g. a customer)."""

    scope: str
    key: str


@dataclass(frozen=True)
class Rate:
    """``source`` units of one currency become ``target`` units of another. Only whole
    multiples of ``source`` move; the remainder stays where it was."""

    source: int
    target: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        left, colon, right = text.partition(":")
        try:
            rate = cls(int(left), int(right))
        except ValueError:
            rate = cls(0, 0)
        if not colon or rate.source <= 0 or rate.target <= 0:
            raise ValueError(f"{text!r} is not a rate like 1:1 or 10:3 (positive whole numbers)")
        return rate

    def apply(self, available: int) -> tuple[int, int]:
        """(taken from the source, given in the target) for ``available`` source units."""
        units = max(0, available) // self.source
        return units * self.source, units * self.target


@dataclass(frozen=True)
class Posting:
    entry: LedgerEntry
    wallet: Wallet
    replayed: bool = False


@dataclass(frozen=True)
class HoldResult:
    hold: Hold
    wallet: Wallet
    entries: tuple[LedgerEntry, ...] = field(default_factory=tuple)
    replayed: bool = False


def request_hash(operation: str, **params: Any) -> str:
    canonical = json.dumps({"op": operation, **params}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def wallet_as_of(entry: LedgerEntry, wallet_id: int) -> Wallet:
    """The wallet exactly as the entry left it; replays answer with this, not today's."""
    return Wallet(
        id=wallet_id,
        customer_id=entry.customer_id,
        currency=entry.currency,
        balance=entry.balance_after,
        held=entry.held_after,
        version=entry.version,
    )


P = ParamSpec("P")


def _within_balance_limit(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[R]]:
    """A credit that would take a wallet past ``MAX_BALANCE`` is refused by PostgreSQL (a
    CHECK on wallets, whichever statement wrote it): answer with the ledger's own error.
    The statement's transaction is then unusable: callers roll back, or post under a
    savepoint as the accrual queue does."""

    @functools.wraps(method)
    async def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except IntegrityError as error:
            if BALANCE_LIMIT_CONSTRAINT not in str(error.orig):
                raise
            raise BalanceLimitReached(limit=MAX_BALANCE) from error

    return checked


class LedgerService:
    def __init__(self, session: AsyncSession, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.repository = LedgerRepository(session)
        self.clock = clock

    # postings

    @_within_balance_limit
    async def accrue(
        self,
        customer_id: int,
        currency: str,
        amount: int,
        *,
        reason: str | Reason,
        source: Source,
        idempotency: IdempotencyKey | None = None,
        expires_at: datetime | None = None,
        kind: EntryKind = EntryKind.ACCRUAL,
        actor: str | None = None,
    ) -> Posting:
        """Add points as a new lot (with an optional expiry)."""
        _check_amount(amount)

        async def operation(record_id: int | None) -> Posting:
            wallet, entry = await self._post_change(
                customer_id,
                currency,
                Change(delta=amount),
                kind=kind,
                reason=reason,
                source=source,
                actor=actor,
                lot=NewLot(expires_at),
                record_id=record_id,
            )
            return Posting(entry, wallet)

        digest = request_hash(
            "accrue",
            customer=customer_id,
            currency=currency,
            amount=amount,
            kind=kind,
            expires_at=expires_at,
            source=source,
        )
        return await self._idempotent(idempotency, digest, operation, self._replay_posting)

    async def lock_wallets(self, customer_ids: Sequence[int], currency: str) -> None:
        """Lock the customers' wallets of ``currency`` up front, in the one order every
        writer uses, for a caller that will post to many of them in this transaction
        (``accrue_many(..., wallets_locked=True)``)."""
        await self.repository.lock_wallets(customer_ids, currency)

    @_within_balance_limit
    async def accrue_many(
        self, items: Sequence[Accrual], *, wallets_locked: bool = False
    ) -> list[int]:
        """Post many accruals (without idempotency keys: the caller's row locks guard
        them); entry ids in the order of ``items``. One statement per currency."""
        for item in items:
            _check_amount(item.amount)
        entry_ids: dict[int, int] = {}
        by_currency: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            by_currency.setdefault(item.currency, []).append(index)
        for currency in sorted(by_currency):  # one global lock order across callers
            indexes = by_currency[currency]
            posted = await post_accruals(
                self.repository.session,
                currency,
                [items[i] for i in indexes],
                self.clock(),
                wallets_locked,
            )
            if posted is None:
                raise CurrencyDisabled(currency=currency)
            entry_ids.update(zip(indexes, posted, strict=True))
        return [entry_ids[index] for index in range(len(items))]

    async def spend(
        self,
        customer_id: int,
        currency: str,
        amount: int,
        *,
        reason: str | Reason,
        source: Source,
        idempotency: IdempotencyKey | None = None,
        expected_version: int | None = None,
    ) -> Posting:
        """Take points from what is available; ``expected_version`` guards a priced checkout."""
        _check_amount(amount)

        async def operation(record_id: int | None) -> Posting:
            change = Change(delta=-amount, need_available=amount, expected_version=expected_version)
            wallet, entry = await self._post_change(
                customer_id,
                currency,
                change,
                kind=EntryKind.SPEND,
                reason=reason,
                source=source,
                record_id=record_id,
            )
            await self._consume_lots(wallet, amount)
            return Posting(entry, wallet)

        digest = request_hash(
            "spend",
            customer=customer_id,
            currency=currency,
            amount=amount,
            expected_version=expected_version,
            source=source,
        )
        return await self._idempotent(idempotency, digest, operation, self._replay_posting)

    @_within_balance_limit
    async def adjust(
        self,
        customer_id: int,
        currency: str,
        amount: int,
        *,
        reason: str,
        actor: str,
        idempotency: IdempotencyKey,
    ) -> Posting:
        """A staff correction: positive credits a lot, negative debits (below zero only
        where the currency allows it)."""
        if amount == 0:
            raise ZeroAmount()
        _check_amount(abs(amount))
        reason = _check_reason(reason)
        source = Source("staff", actor)

        async def operation(record_id: int | None) -> Posting:
            if amount > 0:
                change, lot = Change(delta=amount), NewLot(None)
            else:
                change = Change(delta=amount, need_available=-amount, negative_if_allowed=True)
                lot = None
            wallet, entry = await self._post_change(
                customer_id,
                currency,
                change,
                kind=EntryKind.ADJUST,
                reason=reason,
                source=source,
                actor=actor,
                lot=lot,
                record_id=record_id,
            )
            if amount < 0:
                await self._consume_lots(wallet, -amount)
            return Posting(entry, wallet)

        digest = request_hash(
            "adjust", customer=customer_id, currency=currency, amount=amount, reason=reason
        )
        return await self._idempotent(idempotency, digest, operation, self._replay_posting)

    async def reverse(
        self,
        customer_id: int,
        currency: str,
        amount: int,
        *,
        reason: str | Reason,
        source: Source,
    ) -> tuple[Posting | None, int]:
        """Take back up to ``amount`` (a refund after accrual). Below zero only where the
        currency allows it; otherwise what cannot be taken is returned as the shortfall."""
        _check_amount(amount)
        wanted = amount
        for _ in range(CHANGE_ATTEMPTS):
            change = Change(delta=-wanted, need_available=wanted, negative_if_allowed=True)
            try:
                wallet, entry = await self._post_change(
                    customer_id,
                    currency,
                    change,
                    kind=EntryKind.REVERSE,
                    reason=reason,
                    source=source,
                )
            except InsufficientFunds as short:
                wanted = min(wanted, int(short.params["available"]))
                if wanted <= 0:
                    return None, amount
                continue
            await self._consume_lots(wallet, wanted)
            return Posting(entry, wallet), amount - wanted
        return None, amount

    async def currency(self, code: str) -> Currency | None:
        return await self.repository.currency(code)

    async def currencies(self) -> Sequence[Currency]:
        return await self.repository.currencies()

    async def set_currency_enabled(self, code: str, enabled: bool) -> Currency | None:
        """None for an unknown currency."""
        currency = await self.repository.set_currency_enabled(code, enabled)
        if currency is not None:
            await catalogue_changed(self.repository.session)
        return currency

    @_within_balance_limit
    async def convert(
        self, wallet_id: int, target: str, rate: Rate, *, reason: str
    ) -> tuple[int, int] | None:
        """Move what is available in a wallet to the customer's ``target`` wallet at
        ``rate``, as two ``convert`` entries in this transaction: (debited, credited), or
        None when there is nothing to move. Reads the balance under the wallet's lock, so
        a second run (or a concurrent one) finds nothing left: never converted twice. The
        source currency may be disabled: retiring it is the point."""
        wallet = await self.repository.lock_wallet_by_id(wallet_id)
        if wallet is None:
            raise NotFound(field=("wallet_id",))
        debited, credited = rate.apply(wallet.available)
        if credited <= 0:
            return None
        source = Source("conversion", f"{wallet.currency}>{target}")
        fields = self._entry_fields(
            kind=EntryKind.CONVERT, delta=-debited, held_delta=0, reason=reason, source=source
        )
        await self._post(wallet, fields)
        await self._consume_lots(wallet, debited)
        await self.accrue(
            wallet.customer_id,
            target,
            credited,
            reason=reason,
            source=source,
            kind=EntryKind.CONVERT,
        )
        return debited, credited

    # holds

    async def hold(
        self,
        customer_id: int,
        currency: str,
        amount: int,
        *,
        reason: str | Reason,
        source: Source,
        ttl: timedelta,
        idempotency: IdempotencyKey | None = None,
        expected_version: int | None = None,
    ) -> HoldResult:
        """Reserve points: ``available`` drops, ``balance`` stays until capture.
        ``expected_version`` guards a priced checkout, as for ``spend``."""
        _check_amount(amount)

        async def operation(record_id: int | None) -> HoldResult:
            change = Change(
                delta=0,
                held_delta=amount,
                need_available=amount,
                expected_version=expected_version,
            )
            now = self.clock()
            opened = {
                "amount": amount,
                "status": HoldStatus.ACTIVE,
                "expires_at": now + ttl,
                "source_type": source.type,
                "source_id": source.id,
                "created_at": now,
            }
            wallet, entry = await self._post_change(
                customer_id,
                currency,
                change,
                kind=EntryKind.HOLD,
                reason=reason,
                source=source,
                record_id=record_id,
                hold=opened,
            )
            hold = Hold(
                id=entry.hold_id,
                wallet_id=wallet.id,
                customer_id=customer_id,
                currency=currency,
                captured_amount=0,
                refunded_amount=0,
                **opened,
            )
            return HoldResult(hold, wallet, (entry,))

        digest = request_hash(
            "hold",
            customer=customer_id,
            currency=currency,
            amount=amount,
            ttl=ttl.total_seconds(),
            source=source,
        )
        return await self._idempotent(idempotency, digest, operation, self._replay_hold)

    async def key_used(self, idempotency: IdempotencyKey) -> bool:
        """Whether an operation already used this key (a retry to answer by replay)."""
        record = await self.repository.idempotency_record(idempotency.scope, idempotency.key)
        return record is not None

    async def wallets_of(self, customer_ids: Sequence[int]) -> Sequence[Wallet]:
        return await self.repository.wallets_by_customer_ids(customer_ids)

    async def soonest_expiry(self, wallet_id: int) -> tuple[int, datetime] | None:
        """What expires soonest in the wallet (within a day of the first expiry), and when."""
        found = await self.repository.soonest_expiry_by_wallet_ids([wallet_id])
        return found.get(wallet_id)

    async def find_hold(self, hold_id: int) -> Hold | None:
        return await self.repository.hold(hold_id)

    async def holds_of(self, source: Source, window: Window) -> list[Hold]:
        """The holds made for ``source`` (a partner's, say), oldest first: a statement."""
        return await self.repository.holds_page((source.type, source.id or ""), window)

    async def capture(
        self,
        hold_id: int,
        amount: int | None = None,
        *,
        reason: str | Reason = "Hold captured",
    ) -> HoldResult:
        """Take all or part of a hold; what is not taken is released in the same step."""
        hold, wallet = await self._lock_active_hold(hold_id)
        taken = hold.amount if amount is None else amount
        _check_amount(taken)
        if taken > hold.amount:
            raise CaptureExceedsHold(requested=taken, held=hold.amount)
        source = Source(hold.source_type or "hold", hold.source_id)
        entries = [
            await self._post(
                wallet,
                self._entry_fields(
                    kind=EntryKind.CAPTURE,
                    delta=-taken,
                    held_delta=-taken,
                    reason=reason,
                    source=source,
                    hold_id=hold.id,
                ),
            )
        ]
        await self._consume_lots(wallet, taken, taken_by=entries[0].id)
        if taken < hold.amount:
            entries.append(
                await self._post(
                    wallet,
                    self._entry_fields(
                        kind=EntryKind.RELEASE,
                        delta=0,
                        held_delta=taken - hold.amount,
                        reason=reason,
                        source=source,
                        hold_id=hold.id,
                    ),
                )
            )
        await self._resolve(hold, HoldStatus.CAPTURED, captured=taken)
        return HoldResult(hold, wallet, tuple(entries))

    @_within_balance_limit
    async def refund(
        self, hold_id: int, amount: int, *, reason: str | Reason, idempotency: IdempotencyKey
    ) -> Posting:
        """Give back part or all of what a hold's capture took, never more in all. The
        points come back as lots with the expiry of the lots they were taken from, or
        REFUND_GRACE from now where that expiry has passed."""
        _check_amount(amount)
        text = _check_reason(reason.text if isinstance(reason, Reason) else reason)

        async def operation(record_id: int | None) -> Posting:
            hold, wallet = await self._lock_captured_hold(hold_id)
            refundable = hold.captured_amount - hold.refunded_amount
            if amount > refundable:
                raise RefundExceedsCapture(requested=amount, refundable=refundable)
            entry = await self._post(
                wallet,
                self._entry_fields(
                    kind=EntryKind.REFUND,
                    delta=amount,
                    reason=reason,
                    source=Source(hold.source_type or "hold", hold.source_id),
                    hold_id=hold.id,
                    record_id=record_id,
                ),
            )
            await self._return_to_lots(hold, wallet, entry, amount)
            hold.refunded_amount += amount
            await self.repository.save_hold_refund(hold)
            return Posting(entry, wallet)

        digest = request_hash("refund", hold=hold_id, amount=amount, reason=text)
        return await self._idempotent(idempotency, digest, operation, self._replay_posting)

    async def _lock_captured_hold(self, hold_id: int) -> tuple[Hold, Wallet]:
        hold, wallet = await self._lock_hold(hold_id)
        if hold.status != HoldStatus.CAPTURED:
            raise HoldNotCaptured(status=hold.status)
        return hold, wallet

    async def _return_to_lots(
        self, hold: Hold, wallet: Wallet, entry: LedgerEntry, amount: int
    ) -> None:
        """New lots for a refund, from what the capture took, latest expiry first."""
        now = self.clock()
        for take, expires_at in await self.repository.takes_of_capture(hold.id):
            if amount <= 0:
                return
            back = min(take.amount - take.returned, amount)
            if expires_at is not None and expires_at <= now:
                expires_at = now + REFUND_GRACE
            await self.repository.add_lot(wallet.id, entry.id, back, expires_at)
            take.returned += back
            await self.repository.save_take_returned(take)
            amount -= back
        if amount > 0:  # captured before takes were recorded: its lots are unknown
            await self.repository.add_lot(wallet.id, entry.id, amount, None)

    async def void(self, hold_id: int, *, reason: str | Reason = "Hold voided") -> HoldResult:
        hold, wallet = await self._lock_active_hold(hold_id)
        entry = await self._release(hold, wallet, reason)
        await self._resolve(hold, HoldStatus.VOIDED)
        return HoldResult(hold, wallet, (entry,))

    async def expire_hold(self, hold_id: int) -> HoldResult | None:
        """Release a hold past its time; None when it was resolved or is not due."""
        hold = await self.repository.hold(hold_id)
        if hold is None:
            return None
        wallet = await self.repository.lock_wallet_by_id(hold.wallet_id)
        hold = await self.repository.hold(hold_id)
        if wallet is None or hold is None or hold.status != HoldStatus.ACTIVE:
            return None
        if hold.expires_at > self.clock():
            return None
        entry = await self._release(hold, wallet, HOLD_EXPIRY_REASON)
        await self._resolve(hold, HoldStatus.EXPIRED)
        return HoldResult(hold, wallet, (entry,))

    async def due_hold_ids(self, limit: int) -> Sequence[int]:
        return await self.repository.due_hold_ids(self.clock(), limit)

    # expiry of lots

    async def expire_lots(self, wallet_id: int) -> LedgerEntry | None:
        """Burn what is left of the wallet's expired lots in one ``expire`` entry.

        Points an active hold still reserves are kept until the hold resolves: a capture
        spends them first (they expire soonest), a void leaves them to the next run.
        """
        wallet = await self.repository.lock_wallet_by_id(wallet_id)
        if wallet is None:
            return None
        due = await self.repository.due_lots(wallet_id, self.clock())
        burnable = min(sum(lot.remaining for lot in due), max(0, wallet.available))
        if burnable <= 0:
            return None
        _take_from_lots(due, burnable)
        await self.repository.save_lots(due)
        return await self._post(
            wallet,
            self._entry_fields(
                kind=EntryKind.EXPIRE,
                delta=-burnable,
                reason=EXPIRY_REASON,
                source=Source("expiry"),
            ),
        )

    async def wallet_ids_with_due_lots(self, limit: int) -> Sequence[int]:
        return await self.repository.wallet_ids_with_due_lots(self.clock(), limit)

    # internals

    async def _change(self, customer_id: int, currency: str, change: Change) -> Wallet:
        """Apply a change with its rules in one locked UPDATE; say why when refused."""
        for _ in range(CHANGE_ATTEMPTS):
            wallet = await self.repository.apply_change(customer_id, currency, change, self.clock())
            if wallet is not None:
                return wallet
            await self._explain_refusal(customer_id, currency, change)
        raise RuntimeError(f"change of {currency} wallet of customer {customer_id} never applied")

    async def _post_change(
        self,
        customer_id: int,
        currency: str,
        change: Change,
        *,
        kind: EntryKind,
        reason: str | Reason,
        source: Source,
        actor: str | None = None,
        lot: NewLot | None = None,
        record_id: int | None = None,
        hold: dict[str, Any] | None = None,
    ) -> tuple[Wallet, LedgerEntry]:
        """Apply a change and record its entry (and lot, or the hold it opens) together;
        say why when refused."""
        fields = self._entry_fields(
            kind=kind,
            delta=change.delta,
            held_delta=change.held_delta,
            reason=reason,
            source=source,
            actor=actor,
            record_id=record_id,
        )
        for _ in range(CHANGE_ATTEMPTS):
            posted = await self.repository.apply_posting(
                customer_id, currency, change, self.clock(), fields, lot, hold
            )
            if posted is not None:
                return posted
            await self._explain_refusal(customer_id, currency, change)
        raise RuntimeError(f"posting to {currency} wallet of customer {customer_id} never applied")

    async def _explain_refusal(self, customer_id: int, currency: str, change: Change) -> None:
        """Raise the rule that refused ``change``. Returns (to retry) when no rule did:
        the wallet did not exist (now created) or a concurrent writer created it or
        changed it between the UPDATE and this look."""
        state = await self.repository.refusal_state(customer_id, currency)
        if not state.currency_enabled:
            raise CurrencyDisabled(currency=currency)
        if not state.wallet_exists:
            await self.repository.create_wallet(customer_id, currency)
            return
        if change.expected_version is not None and state.version != change.expected_version:
            raise VersionConflict(expected=change.expected_version, actual=state.version)
        short = change.need_available is not None and state.available < change.need_available
        if short and not (change.negative_if_allowed and state.allow_negative):
            raise InsufficientFunds(
                currency=currency, available=state.available, requested=change.need_available
            )

    async def _lock_hold(self, hold_id: int) -> tuple[Hold, Wallet]:
        """The hold, read under its wallet's lock, and that wallet."""
        wallet = await self.repository.lock_wallet_of_hold(hold_id)
        hold = await self.repository.hold(hold_id) if wallet is not None else None
        if wallet is None or hold is None:
            raise NotFound(field=("hold_id",))
        return hold, wallet

    async def _lock_active_hold(self, hold_id: int) -> tuple[Hold, Wallet]:
        hold, wallet = await self._lock_hold(hold_id)
        if hold.status != HoldStatus.ACTIVE:
            raise HoldNotActive(status=hold.status)
        if hold.expires_at <= self.clock():
            raise HoldExpired()
        return hold, wallet

    async def _consume_lots(
        self, wallet: Wallet, debited: int, *, taken_by: int | None = None
    ) -> None:
        """Take a debit already applied to ``wallet`` from its lots, soonest expiry first;
        the part of it that went below zero had no lots to take from. With ``taken_by``
        (the debit's entry, one that may be refunded), what it took from each lot is
        recorded."""
        amount = min(debited, max(0, wallet.balance + debited))
        if amount <= 0:
            return
        lots = await self.repository.open_lots(wallet.id)
        before = {lot.id: lot.remaining for lot in lots}
        touched = _take_from_lots(lots, amount)
        await self.repository.save_lots(touched)
        if taken_by is not None:
            taken = [(lot.id, before[lot.id] - lot.remaining) for lot in touched]
            await self.repository.add_lot_takes(taken_by, taken)

    async def _release(self, hold: Hold, wallet: Wallet, reason: str | Reason) -> LedgerEntry:
        return await self._post(
            wallet,
            self._entry_fields(
                kind=EntryKind.RELEASE,
                delta=0,
                held_delta=-hold.amount,
                reason=reason,
                source=Source(hold.source_type or "hold", hold.source_id),
                hold_id=hold.id,
            ),
        )

    async def _resolve(self, hold: Hold, status: HoldStatus, *, captured: int = 0) -> None:
        hold.status = status
        hold.captured_amount = captured
        hold.resolved_at = self.clock()
        await self.repository.save_hold_resolution(hold)

    async def _post(self, wallet: Wallet, fields: dict[str, Any]) -> LedgerEntry:
        """Change a wallet locked by ``lock_wallet_by_id`` by an entry's amounts and record
        the entry; the save checks the version read under the lock."""
        read_version = wallet.version
        wallet.balance += fields["delta"]
        wallet.held += fields["held_delta"]
        wallet.version += 1
        wallet.updated_at = self.clock()
        await self.repository.save_wallet(wallet, read_version=read_version)
        return await self.repository.add_entry(entry_values(wallet, fields))

    def _entry_fields(
        self,
        *,
        kind: EntryKind,
        delta: int,
        held_delta: int = 0,
        reason: str | Reason,
        source: Source,
        actor: str | None = None,
        hold_id: int | None = None,
        record_id: int | None = None,
    ) -> dict[str, Any]:
        """An entry's own fields; ``record_id`` is the idempotency key that asked for it.
        A ``Reason`` is kept as its code and parameters (shown in each reader's language)
        and its English text; a plain string (a staff member's words) as it is."""
        coded = reason if isinstance(reason, Reason) else None
        return {
            "kind": kind,
            "delta": delta,
            "held_delta": held_delta,
            "reason": (coded.text if coded else str(reason))[:500],
            "reason_code": coded.code if coded else None,
            "reason_params": dict(coded.params) if coded else None,
            "source_type": source.type,
            "source_id": source.id,
            "actor": actor,
            "hold_id": hold_id,
            "idempotency_record_id": record_id,
            "created_at": self.clock(),
        }

    async def _idempotent(
        self,
        idempotency: IdempotencyKey | None,
        digest: str,
        operation: Callable[[int | None], Awaitable[R]],
        replay: Callable[[IdempotencyRecord], Awaitable[R]],
    ) -> R:
        if idempotency is None:
            return await operation(None)
        if not 0 < len(idempotency.key) <= MAX_KEY_LENGTH:
            raise IdempotencyKeyInvalid()
        scope, key = idempotency.scope, idempotency.key
        record_id = await self.repository.claim_idempotency(scope, key, digest)
        if record_id is None:
            record = await self.repository.idempotency_record(scope, key)
            assert record is not None
            if record.request_hash != digest:
                raise IdempotencyConflict()
            return await replay(record)
        # Entries posted by this operation point back to the key that produced them.
        return await operation(record_id)

    async def _replay_posting(self, record: IdempotencyRecord) -> Posting:
        entry = await self.repository.first_entry_of(record.id)
        assert entry is not None
        return Posting(entry, wallet_as_of(entry, entry.wallet_id), replayed=True)

    async def _replay_hold(self, record: IdempotencyRecord) -> HoldResult:
        entry = await self.repository.first_entry_of(record.id)
        assert entry is not None
        assert entry.hold_id is not None
        hold = await self.repository.hold(entry.hold_id)
        assert hold is not None
        return HoldResult(hold, wallet_as_of(entry, hold.wallet_id), (entry,), replayed=True)


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount()
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount()


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) not in REASON_LENGTH:
        raise ReasonRequired()
    return reason


def _take_from_lots(lots: Sequence[Lot], amount: int) -> list[Lot]:
    """Reduce lots in the given order until ``amount`` is taken; returns those touched."""
    touched: list[Lot] = []
    for lot in lots:
        if amount <= 0:
            break
        take = min(lot.remaining, amount)
        lot.remaining -= take
        amount -= take
        touched.append(lot)
    return touched
