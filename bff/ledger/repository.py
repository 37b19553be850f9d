"""Every SQL statement of the ledger.

The write path uses Core statements and hands back detached model instances: a posting
is five statements (claim key, lock wallet, update wallet, insert entry, insert lot)
with no ORM flush bookkeeping on the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Interval,
    Select,
    Table,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.db import Base
from bff.kernel.driver import driver_reads, driver_select
from bff.kernel.types import Window, utcnow
from bff.ledger.models import (
    Currency,
    EntryKind,
    Hold,
    HoldStatus,
    IdempotencyRecord,
    LedgerEntry,
    Lot,
    LotTake,
    Wallet,
)

M = TypeVar("M", bound=Base)

_WALLETS = cast(Table, Wallet.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)
_HOLDS = cast(Table, Hold.__table__)
_LOTS = cast(Table, Lot.__table__)
_LOT_TAKES = cast(Table, LotTake.__table__)
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)


class StaleWalletError(RuntimeError):
    """A version-checked wallet update matched no row: the lock was bypassed (a bug)."""


def _detached(model: type[M], row: Any) -> M:
    return model(**dict(row._mapping))


@dataclass(frozen=True)
class Change:
    """One conditional change of a wallet, applied by a single UPDATE that also takes
    the row lock. The rules it must pass are part of its WHERE clause."""

    delta: int
    held_delta: int = 0
    need_available: int | None = None  # refuse unless balance - held >= this, before
    negative_if_allowed: bool = False  # ...unless the currency allows negative balances
    expected_version: int | None = None

    @property
    def rules(self) -> tuple[bool, bool, bool]:
        """Which conditions its UPDATE carries; one prebuilt statement per combination."""
        return (
            self.need_available is not None,
            self.negative_if_allowed,
            self.expected_version is not None,
        )


@dataclass(frozen=True)
class RefusalState:
    """Why a change matched no row, read right after the refusal."""

    currency_enabled: bool
    allow_negative: bool
    wallet_exists: bool
    version: int
    available: int


_ENTRY_COLUMNS = [c.name for c in _ENTRIES.columns if c.name != "id"]


def _bind(table: Table, names: Sequence[str], prefix: str = "") -> dict[str, Any]:
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in names}


# Bound names must differ from column names in INSERT ... VALUES.
_INSERT_ENTRY = (
    insert(_ENTRIES).values(_bind(_ENTRIES, _ENTRY_COLUMNS, prefix="e_")).returning(_ENTRIES.c.id)
)


@cache
def _change_statement(checks_available: bool, negative_if_allowed: bool, with_version: bool) -> Any:
    """The UPDATE for a ``Change``; built once per combination of rules."""
    currency = select(Currency.code).where(
        Currency.code == _WALLETS.c.currency, Currency.enabled.is_(True)
    )
    conditions = [
        _WALLETS.c.customer_id == bindparam("p_customer_id"),
        _WALLETS.c.currency == bindparam("p_currency"),
        currency.exists(),
    ]
    if checks_available:
        enough = _WALLETS.c.balance - _WALLETS.c.held >= bindparam("need_available")
        if negative_if_allowed:
            allowed = select(Currency.code).where(
                Currency.code == _WALLETS.c.currency, Currency.allow_negative.is_(True)
            )
            enough = or_(enough, allowed.exists())
        conditions.append(enough)
    if with_version:
        conditions.append(_WALLETS.c.version == bindparam("expected_version"))
    return (
        update(_WALLETS)
        .where(*conditions)
        .values(
            balance=_WALLETS.c.balance + bindparam("delta"),
            held=_WALLETS.c.held + bindparam("held_delta"),
            version=_WALLETS.c.version + 1,
            updated_at=bindparam("now", type_=_WALLETS.c.updated_at.type),
        )
        .returning(*_WALLETS.columns)
    )


# What the service says about an entry; the wallet columns come from the change itself.
_ENTRY_OWN = [
    "kind",
    "delta",
    "held_delta",
    "reason",
    "reason_code",
    "reason_params",
    "source_type",
    "source_id",
    "actor",
    "hold_id",
    "idempotency_record_id",
    "created_at",
]


_HOLD_OWN = ["amount", "status", "expires_at", "source_type", "source_id", "created_at"]


@cache
def _posting_statement(
    checks_available: bool,
    negative_if_allowed: bool,
    with_version: bool,
    opens_lot: bool,
    opens_hold: bool = False,
) -> Any:
    """PostgreSQL: change, entry and lot (or hold) in one statement (data-modifying CTEs).

    Nothing is inserted when the change is refused: the entry selects from the changed
    row. A credit first covers a deficit; only what lands above zero opens a lot.
    """
    changed = _change_statement(checks_available, negative_if_allowed, with_version).cte("changed")
    own = _bind(_ENTRIES, _ENTRY_OWN, prefix="e_")
    source: Any = changed
    if opens_hold:
        hold = _new_hold(changed)
        own["hold_id"] = hold.c.id
        source = changed.join(hold, hold.c.wallet_id == changed.c.id)
    entry = (
        insert(_ENTRIES)
        .from_select(
            [
                "wallet_id",
                "customer_id",
                "currency",
                "version",
                "balance_after",
                "held_after",
                *_ENTRY_OWN,
            ],
            select(
                changed.c.id,
                changed.c.customer_id,
                changed.c.currency,
                changed.c.version,
                changed.c.balance,
                changed.c.held,
                *own.values(),
            ).select_from(source),
        )
        .returning(_ENTRIES.c.id, _ENTRIES.c.wallet_id, _ENTRIES.c.hold_id)
        .cte("entry")
    )
    statement = select(
        *changed.c, entry.c.id.label("entry_id"), entry.c.hold_id.label("entry_hold_id")
    ).join_from(changed, entry, entry.c.wallet_id == changed.c.id)
    if not opens_lot:
        return statement
    delta = bindparam("l_delta", type_=_WALLETS.c.balance.type)
    amount = func.greatest(changed.c.balance, 0) - func.greatest(changed.c.balance - delta, 0)
    lot = insert(_LOTS).from_select(
        ["entry_id", "wallet_id", "amount", "remaining", "expires_at", "created_at"],
        select(
            entry.c.id,
            changed.c.id,
            amount,
            amount,
            bindparam("l_expires_at", type_=_LOTS.c.expires_at.type),
            bindparam("l_created_at", type_=_LOTS.c.created_at.type),
        )
        .join_from(changed, entry, entry.c.wallet_id == changed.c.id)
        .where(amount > 0),
    )
    return statement.add_cte(lot.cte("lot"))


def _new_hold(changed: Any) -> Any:
    """The hold a posting opens on the changed wallet (its entry refers to it)."""
    own = _bind(_HOLDS, _HOLD_OWN, prefix="h_")
    return (
        insert(_HOLDS)
        .from_select(
            ["wallet_id", "customer_id", "currency", "captured_amount", "refunded_amount", *own],
            select(
                changed.c.id,
                changed.c.customer_id,
                changed.c.currency,
                literal(0),
                literal(0),
                *own.values(),
            ),
        )
        .returning(_HOLDS.c.id, _HOLDS.c.wallet_id)
        .cte("new_hold")
    )


@dataclass(frozen=True)
class NewLot:
    """A credit opens a lot with this expiry (None: never expires)."""

    expires_at: datetime | None


_CLAIM = (
    pg_insert(_IDEMPOTENCY)
    .values(
        scope=bindparam("p_scope"),
        key=bindparam("p_key"),
        request_hash=bindparam("p_hash"),
        created_at=bindparam("p_now", type_=_IDEMPOTENCY.c.created_at.type),
    )
    .on_conflict_do_nothing(index_elements=["scope", "key"])
    .returning(_IDEMPOTENCY.c.id)
)


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # currencies

    async def currency(self, code: str) -> Currency | None:
        return await self.session.get(Currency, code)

    async def set_currency_enabled(self, code: str, enabled: bool) -> Currency | None:
        currency = await self.session.get(Currency, code)
        if currency is not None:
            currency.enabled = enabled
            await self.session.flush()
        return currency

    async def currencies(self) -> Sequence[Currency]:
        result = await self.session.scalars(select(Currency).order_by(Currency.code))
        return result.all()

    # wallets

    async def apply_change(
        self, customer_id: int, currency: str, change: Change, now: datetime
    ) -> Wallet | None:
        """The wallet after the change, locked until the transaction ends; None when a
        rule refused it or the wallet does not exist (see ``refusal_state``)."""
        statement = _change_statement(*change.rules)
        params = self._change_params(customer_id, currency, change, now)
        row = (await self._connection_execute(statement, params)).first()
        return _detached(Wallet, row) if row else None

    async def apply_posting(
        self,
        customer_id: int,
        currency: str,
        change: Change,
        now: datetime,
        entry: dict[str, Any],
        lot: NewLot | None,
        hold: dict[str, Any] | None = None,
    ) -> tuple[Wallet, LedgerEntry] | None:
        """Apply ``change`` and record its entry (and lot, or the ``hold`` the entry then
        refers to), or None when refused."""
        statement = _posting_statement(
            *change.rules, opens_lot=lot is not None, opens_hold=hold is not None
        )
        params = self._change_params(customer_id, currency, change, now)
        params |= {f"e_{name}": entry[name] for name in _ENTRY_OWN}
        if lot is not None:
            params |= {"l_delta": change.delta, "l_expires_at": lot.expires_at, "l_created_at": now}
        if hold is not None:
            params |= {f"h_{name}": hold[name] for name in _HOLD_OWN}
        row = (await self._connection_execute(statement, params)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        entry_id, hold_id = values.pop("entry_id"), values.pop("entry_hold_id")
        wallet = Wallet(**values)
        posted = LedgerEntry(id=entry_id, **entry_values(wallet, entry | {"hold_id": hold_id}))
        return wallet, posted

    async def refusal_state(self, customer_id: int, currency: str) -> RefusalState:
        row = (
            await self.session.execute(
                select(
                    Currency.enabled,
                    Currency.allow_negative,
                    _WALLETS.c.id,
                    _WALLETS.c.version,
                    _WALLETS.c.balance - _WALLETS.c.held,
                )
                .select_from(Currency)
                .outerjoin(
                    _WALLETS,
                    (_WALLETS.c.currency == Currency.code)
                    & (_WALLETS.c.customer_id == customer_id),
                )
                .where(Currency.code == currency)
            )
        ).first()
        if row is None:
            return RefusalState(False, False, False, 0, 0)
        enabled, allow_negative, wallet_id, version, available = row
        return RefusalState(
            bool(enabled),
            bool(allow_negative),
            wallet_id is not None,
            version or 0,
            available or 0,
        )

    @staticmethod
    def _change_params(
        customer_id: int, currency: str, change: Change, now: datetime
    ) -> dict[str, Any]:
        return {
            "p_customer_id": customer_id,
            "p_currency": currency,
            "delta": change.delta,
            "held_delta": change.held_delta,
            "now": now,
            "need_available": change.need_available,
            "expected_version": change.expected_version,
        }

    async def create_wallet(self, customer_id: int, currency: str) -> None:
        now = utcnow()
        await self.session.execute(
            pg_insert(_WALLETS)
            .values(
                customer_id=customer_id,
                currency=currency,
                balance=0,
                held=0,
                version=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["customer_id", "currency"])
        )

    async def _connection_execute(self, statement: Any, params: dict[str, Any]) -> Any:
        connection = await self.session.connection()
        return await connection.execute(statement, params)

    async def lock_wallets(self, customer_ids: Sequence[int], currency: str) -> None:
        """Lock the existing wallets in id order: a batch that will post to many wallets
        takes its locks up front, in the one order every batch uses. A bulk posting
        creates the missing ones (in customer order)."""
        ids = sorted(set(customer_ids))
        if ids:
            await self.session.execute(
                select(_WALLETS.c.id)
                .where(_WALLETS.c.customer_id.in_(ids), _WALLETS.c.currency == currency)
                .order_by(_WALLETS.c.id)
                .with_for_update()
            )

    async def lock_wallet_by_id(self, wallet_id: int) -> Wallet | None:
        statement = select(_WALLETS).where(_WALLETS.c.id == wallet_id).with_for_update()
        row = (await self.session.execute(statement)).first()
        return _detached(Wallet, row) if row else None

    async def lock_wallet_of_hold(self, hold_id: int) -> Wallet | None:
        """The wallet of a hold, locked (a hold never changes wallets, so reading its
        ``wallet_id`` before the lock is safe); None for an unknown hold."""
        of_hold = select(_HOLDS.c.wallet_id).where(_HOLDS.c.id == hold_id).scalar_subquery()
        statement = select(_WALLETS).where(_WALLETS.c.id == of_hold).with_for_update()
        row = (await self.session.execute(statement)).first()
        return _detached(Wallet, row) if row else None

    async def save_wallet(self, wallet: Wallet, *, read_version: int) -> None:
        """Write balance, held and version, only if the version is still the one read."""
        result = await self.session.execute(
            update(_WALLETS)
            .where(_WALLETS.c.id == wallet.id, _WALLETS.c.version == read_version)
            .values(
                balance=wallet.balance,
                held=wallet.held,
                version=wallet.version,
                updated_at=wallet.updated_at,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWalletError(f"wallet {wallet.id} moved past version {read_version}")

    async def wallets_by_customer_ids(self, customer_ids: Sequence[int]) -> Sequence[Wallet]:
        if (driver := await driver_reads(self.session)) is not None:
            return await driver.models(Wallet, _DRIVER_WALLETS_OF_CUSTOMERS, list(customer_ids))
        result = await self.session.scalars(_WALLETS_OF_CUSTOMERS, {"ids": list(customer_ids)})
        return result.all()

    # entries

    async def add_entry(self, values: dict[str, Any]) -> LedgerEntry:
        params = {f"e_{name}": value for name, value in values.items()}
        entry_id = (await self._connection_execute(_INSERT_ENTRY, params)).scalar_one()
        return LedgerEntry(id=entry_id, **values)

    async def entries_by_ids(self, entry_ids: Sequence[int]) -> Sequence[LedgerEntry]:
        result = await self.session.scalars(
            select(LedgerEntry).where(LedgerEntry.id.in_(entry_ids))
        )
        return result.all()

    async def first_entry_of(self, record_id: int) -> LedgerEntry | None:
        row = (
            await self.session.execute(
                select(_ENTRIES)
                .where(_ENTRIES.c.idempotency_record_id == record_id)
                .order_by(_ENTRIES.c.id)
                .limit(1)
            )
        ).first()
        return _detached(LedgerEntry, row) if row else None

    async def history_page(
        self,
        customer_id: int,
        *,
        limit: int,
        before_id: int | None = None,
        currency: str | None = None,
    ) -> Sequence[LedgerEntry]:
        """Newest first, keyset-paged on the entry id."""
        statement = select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
        if currency is not None:
            statement = statement.where(LedgerEntry.currency == currency)
        if before_id is not None:
            statement = statement.where(LedgerEntry.id < before_id)
        result = await self.session.scalars(statement.order_by(LedgerEntry.id.desc()).limit(limit))
        return result.all()

    # holds

    async def holds_page(self, source: tuple[str, str], window: Window) -> list[Hold]:
        """Holds made for ``source``, oldest first, after ``window.after_id``."""
        statement = (
            select(_HOLDS)
            .where(_HOLDS.c.source_type == source[0], _HOLDS.c.source_id == source[1])
            .where(_HOLDS.c.id > window.after_id)
            .order_by(_HOLDS.c.id)
            .limit(window.limit)
        )
        if window.since is not None:
            statement = statement.where(_HOLDS.c.created_at >= window.since)
        if window.until is not None:
            statement = statement.where(_HOLDS.c.created_at < window.until)
        return [_detached(Hold, row) for row in await self.session.execute(statement)]

    async def hold(self, hold_id: int) -> Hold | None:
        row = (await self.session.execute(select(_HOLDS).where(_HOLDS.c.id == hold_id))).first()
        return _detached(Hold, row) if row else None

    async def holds_by_ids(self, hold_ids: Sequence[int]) -> list[Hold]:
        statement = select(_HOLDS).where(_HOLDS.c.id.in_(hold_ids))
        return [_detached(Hold, row) for row in (await self.session.execute(statement)).all()]

    async def save_hold_refund(self, hold: Hold) -> None:
        await self.session.execute(
            update(_HOLDS)
            .where(_HOLDS.c.id == hold.id)
            .values(refunded_amount=hold.refunded_amount)
        )

    async def add_lot_takes(self, entry_id: int, taken: Sequence[tuple[int, int]]) -> None:
        """Record what the debit ``entry_id`` took from each lot: ``(lot id, amount)``."""
        if taken:
            await self.session.execute(
                insert(_LOT_TAKES),
                [
                    {"entry_id": entry_id, "lot_id": lot_id, "amount": amount, "returned": 0}
                    for lot_id, amount in taken
                ],
            )

    async def takes_of_capture(self, hold_id: int) -> list[tuple[LotTake, datetime | None]]:
        """What the capture of ``hold_id`` took from each lot and not returned yet, with
        the lot's expiry; latest expiry first (never-expiring first of all)."""
        lots = _LOTS.alias("lot")
        rows = await self.session.execute(
            select(_LOT_TAKES, lots.c.expires_at)
            .join(_ENTRIES, _ENTRIES.c.id == _LOT_TAKES.c.entry_id)
            .join(lots, lots.c.id == _LOT_TAKES.c.lot_id)
            .where(_ENTRIES.c.hold_id == hold_id, _ENTRIES.c.kind == EntryKind.CAPTURE)
            .where(_LOT_TAKES.c.returned < _LOT_TAKES.c.amount)
            .order_by(lots.c.expires_at.is_not(None), lots.c.expires_at.desc(), _LOT_TAKES.c.id)
        )
        names = [column.name for column in _LOT_TAKES.columns]
        return [(LotTake(**{n: row._mapping[n] for n in names}), row.expires_at) for row in rows]

    async def save_take_returned(self, take: LotTake) -> None:
        await self.session.execute(
            update(_LOT_TAKES).where(_LOT_TAKES.c.id == take.id).values(returned=take.returned)
        )

    async def add_lot(
        self, wallet_id: int, entry_id: int, amount: int, expires_at: datetime | None
    ) -> None:
        await self.session.execute(
            insert(_LOTS).values(
                wallet_id=wallet_id,
                entry_id=entry_id,
                amount=amount,
                remaining=amount,
                expires_at=expires_at,
                created_at=utcnow(),
            )
        )

    async def save_hold_resolution(self, hold: Hold) -> None:
        await self.session.execute(
            update(_HOLDS)
            .where(_HOLDS.c.id == hold.id)
            .values(
                status=hold.status,
                captured_amount=hold.captured_amount,
                resolved_at=hold.resolved_at,
            )
        )

    async def due_hold_ids(self, now: datetime, limit: int) -> Sequence[int]:
        result = await self.session.scalars(
            select(Hold.id)
            .where(Hold.status == HoldStatus.ACTIVE, Hold.expires_at <= now)
            .order_by(Hold.expires_at, Hold.id)
            .limit(limit)
        )
        return result.all()

    # lots

    async def open_lots(self, wallet_id: int) -> list[Lot]:
        """Lots with something left, in spending order: soonest expiry first, undated last."""
        rows = await self.session.execute(
            select(_LOTS)
            .where(_LOTS.c.wallet_id == wallet_id, _LOTS.c.remaining > 0)
            .order_by(_LOTS.c.expires_at.is_(None), _LOTS.c.expires_at, _LOTS.c.id)
        )
        return [_detached(Lot, row) for row in rows]

    async def due_lots(self, wallet_id: int, now: datetime) -> list[Lot]:
        rows = await self.session.execute(
            select(_LOTS)
            .where(_LOTS.c.wallet_id == wallet_id, _LOTS.c.expires_at <= now, _LOTS.c.remaining > 0)
            .order_by(_LOTS.c.expires_at, _LOTS.c.id)
        )
        return [_detached(Lot, row) for row in rows]

    async def save_lots(self, lots: Sequence[Lot]) -> None:
        for lot in lots:
            await self.session.execute(
                update(_LOTS).where(_LOTS.c.id == lot.id).values(remaining=lot.remaining)
            )

    async def convertible_wallets(
        self, currency: str, *, after_id: int, limit: int
    ) -> Sequence[tuple[int, int]]:
        """(wallet id, available) of wallets in ``currency`` with something available, by id."""
        statement = (
            select(_WALLETS.c.id, _WALLETS.c.balance - _WALLETS.c.held)
            .where(
                _WALLETS.c.currency == currency,
                _WALLETS.c.balance - _WALLETS.c.held > 0,
                _WALLETS.c.id > after_id,
            )
            .order_by(_WALLETS.c.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def count_convertible_wallets(self, currency: str) -> int:
        statement = select(func.count()).where(
            _WALLETS.c.currency == currency, _WALLETS.c.balance - _WALLETS.c.held > 0
        )
        return int(await self.session.scalar(statement) or 0)

    async def wallet_ids_with_due_lots(self, now: datetime, limit: int) -> Sequence[int]:
        result = await self.session.scalars(
            select(Lot.wallet_id)
            .where(Lot.expires_at <= now, Lot.remaining > 0)
            .group_by(Lot.wallet_id)
            .order_by(func.min(Lot.expires_at))
            .limit(limit)
        )
        return result.all()

    async def soonest_expiry_by_wallet_ids(
        self, wallet_ids: Sequence[int]
    ) -> dict[int, tuple[int, datetime]]:
        """For each wallet: the soonest expiry and what is left in lots expiring within a
        day of it (customers read "120 points expire on the 25th", not per lot)."""
        if (driver := await driver_reads(self.session)) is not None:
            rows = await driver.fetch(_DRIVER_SOONEST_EXPIRY, list(wallet_ids))
        else:
            statement = _SOONEST_EXPIRY_STATEMENT
            rows = (await self.session.execute(statement, {"wallet_ids": list(wallet_ids)})).all()
        return {wallet_id: (int(amount), _as_utc(at)) for wallet_id, at, amount in rows}

    # idempotency

    async def claim_idempotency(self, scope: str, key: str, request_hash: str) -> int | None:
        """Claim a key: its record id, or None when somebody holds it (PostgreSQL waits
        for that transaction to end before answering)."""
        params = {"p_scope": scope, "p_key": key, "p_hash": request_hash, "p_now": utcnow()}
        result = await self._connection_execute(_CLAIM, params)
        record_id: int | None = result.scalar()
        return record_id

    async def claim_many(self, scope: str, hashes: dict[str, str]) -> dict[str, int]:
        """Claim many keys of one scope at once: record ids of the keys claimed now (the
        others were claimed before, by an earlier run or a concurrent one)."""
        if not hashes:
            return {}
        now = utcnow()
        statement = (
            pg_insert(_IDEMPOTENCY)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(IdempotencyRecord.key, IdempotencyRecord.id)
        )
        rows = [
            {"scope": scope, "key": key, "request_hash": digest, "created_at": now}
            for key, digest in hashes.items()
        ]
        connection = await self.session.connection()
        result = await connection.execute(statement, rows)
        return {key: record_id for key, record_id in result.all()}

    async def request_hashes(self, scope: str, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        statement = select(IdempotencyRecord.key, IdempotencyRecord.request_hash).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key.in_(keys)
        )
        return {key: digest for key, digest in (await self.session.execute(statement)).all()}

    async def idempotency_record(self, scope: str, key: str) -> IdempotencyRecord | None:
        result = await self.session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )
        return result.first()


def _as_utc(value: datetime) -> datetime:
    # An aggregate loses the column type, and with it UTCDateTime's conversion.
    return value.astimezone(UTC)


def entry_values(wallet: Wallet, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "wallet_id": wallet.id,
        "customer_id": wallet.customer_id,
        "currency": wallet.currency,
        "version": wallet.version,
        "balance_after": wallet.balance,
        "held_after": wallet.held,
        **{name: entry[name] for name in _ENTRY_OWN},
    }


# Read on every signed-in home screen: built once, so a request pays only for binding the
# ids (building a select with a sub-query costs more than running it).
_WALLETS_OF_CUSTOMERS = (
    select(Wallet)
    .where(Wallet.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Wallet.customer_id, Wallet.currency)
)

# The same two reads as SQL for the driver (bff.kernel.driver);
# tests/test_driver_reads.py holds each to its twin above.
_DRIVER_WALLETS_OF_CUSTOMERS = driver_select(
    Wallet, "customer_id = ANY($1::bigint[]) ORDER BY customer_id, currency"
)
_DRIVER_SOONEST_EXPIRY = """
SELECT lots.wallet_id, min(soonest.at), sum(lots.remaining)
FROM lots JOIN (
    SELECT wallet_id, min(expires_at) AS at FROM lots
    WHERE wallet_id = ANY($1::bigint[]) AND remaining > 0 AND expires_at IS NOT NULL
    GROUP BY wallet_id
) AS soonest ON soonest.wallet_id = lots.wallet_id
WHERE lots.remaining > 0 AND lots.expires_at >= soonest.at
    AND lots.expires_at < soonest.at + interval '1 day'
GROUP BY lots.wallet_id
"""


def _soonest_expiry_statement() -> Select[int, Any, int]:
    soonest = (
        select(Lot.wallet_id, func.min(Lot.expires_at).label("at"))
        .where(
            Lot.wallet_id.in_(bindparam("wallet_ids", expanding=True)),
            Lot.remaining > 0,
            Lot.expires_at.is_not(None),
        )
        .group_by(Lot.wallet_id)
        .subquery()
    )
    return (
        select(Lot.wallet_id, func.min(soonest.c.at), func.sum(Lot.remaining))
        .join(soonest, soonest.c.wallet_id == Lot.wallet_id)
        .where(
            Lot.remaining > 0,
            Lot.expires_at >= soonest.c.at,
            Lot.expires_at < soonest.c.at + literal(timedelta(days=1), Interval()),
        )
        .group_by(Lot.wallet_id)
    )


_SOONEST_EXPIRY_STATEMENT = _soonest_expiry_statement()
