"""Every SQL statement of the ledger.

The write path uses Core statements and hands back detached model instances: a posting
is five statements (claim key, lock wallet, update wallet, insert entry, insert lot)
with no ORM flush bookkeeping on the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Interval, Select, Table, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.db import Base
from bff.ledger.models import (
    Currency,
    Hold,
    HoldStatus,
    IdempotencyRecord,
    LedgerEntry,
    Lot,
    Wallet,
)
from bff.types import utcnow

M = TypeVar("M", bound=Base)

_WALLETS = cast(Table, Wallet.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)
_HOLDS = cast(Table, Hold.__table__)
_LOTS = cast(Table, Lot.__table__)
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)


class StaleWalletError(RuntimeError):
    """A version-checked wallet update matched no row: the lock was bypassed (a bug)."""


def _detached(model: type[M], row: Any) -> M:
    return model(**dict(row._mapping))


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._dialect = session.bind.dialect.name if session.bind else "sqlite"

    def _upsert(self, table: Any) -> Any:
        return (pg_insert if self._dialect == "postgresql" else sqlite_insert)(table)

    # currencies

    async def currency(self, code: str) -> Currency | None:
        return await self.session.get(Currency, code)

    async def currencies(self) -> Sequence[Currency]:
        result = await self.session.scalars(select(Currency).order_by(Currency.code))
        return result.all()

    # wallets

    async def lock_wallet(self, customer_id: int, currency: str) -> tuple[Wallet, Currency] | None:
        """The wallet row locked until the transaction ends, with its currency's policy;
        created when missing. None when the currency does not exist."""
        found = await self._select_locked(customer_id, currency)
        if found is not None:
            return found
        if await self.currency(currency) is None:
            return None
        now = utcnow()
        await self.session.execute(
            self._upsert(_WALLETS)
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
        return await self._select_locked(customer_id, currency)

    async def lock_wallet_by_id(self, wallet_id: int) -> Wallet | None:
        statement = select(_WALLETS).where(_WALLETS.c.id == wallet_id).with_for_update()
        row = (await self.session.execute(statement)).first()
        return _detached(Wallet, row) if row else None

    async def _select_locked(
        self, customer_id: int, currency: str
    ) -> tuple[Wallet, Currency] | None:
        statement: Select[Any] = (
            select(_WALLETS, Currency.enabled, Currency.allow_negative)
            .join(Currency, Currency.code == _WALLETS.c.currency)
            .where(_WALLETS.c.customer_id == customer_id, _WALLETS.c.currency == currency)
            # Lock the wallet only: locking the currency row would serialise every writer.
            .with_for_update(of=_WALLETS)
        )
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        policy = Currency(
            code=currency,
            enabled=values.pop("enabled"),
            allow_negative=values.pop("allow_negative"),
        )
        return Wallet(**values), policy

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
        result = await self.session.scalars(
            select(Wallet)
            .where(Wallet.customer_id.in_(customer_ids))
            .order_by(Wallet.customer_id, Wallet.currency)
        )
        return result.all()

    # entries

    async def add_entry(self, values: dict[str, Any]) -> LedgerEntry:
        entry_id = await self.session.scalar(
            insert(_ENTRIES).values(**values).returning(_ENTRIES.c.id)
        )
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

    async def add_hold(self, values: dict[str, Any]) -> Hold:
        statement = insert(_HOLDS).values(**values).returning(_HOLDS.c.id)
        hold_id = await self.session.scalar(statement)
        return Hold(id=hold_id, **values)

    async def hold(self, hold_id: int) -> Hold | None:
        row = (await self.session.execute(select(_HOLDS).where(_HOLDS.c.id == hold_id))).first()
        return _detached(Hold, row) if row else None

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

    async def add_lot(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(_LOTS).values(**values))

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
        soonest = (
            select(Lot.wallet_id, func.min(Lot.expires_at).label("at"))
            .where(
                Lot.wallet_id.in_(wallet_ids),
                Lot.remaining > 0,
                Lot.expires_at.is_not(None),
            )
            .group_by(Lot.wallet_id)
            .subquery()
        )
        statement = (
            select(Lot.wallet_id, func.min(soonest.c.at), func.sum(Lot.remaining))
            .join(soonest, soonest.c.wallet_id == Lot.wallet_id)
            .where(
                Lot.remaining > 0,
                Lot.expires_at >= soonest.c.at,
                Lot.expires_at < self._one_day_after(soonest.c.at),
            )
            .group_by(Lot.wallet_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {wallet_id: (int(amount), _as_utc(at)) for wallet_id, at, amount in rows}

    def _one_day_after(self, column: Any) -> Any:
        if self._dialect == "postgresql":
            return column + literal(timedelta(days=1), Interval())
        # SQLite keeps timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" text.
        return func.strftime("%Y-%m-%d %H:%M:%f", column, "+1 day")

    # idempotency

    async def claim_idempotency(self, scope: str, key: str, request_hash: str) -> int | None:
        """Claim a key: its record id, or None when somebody holds it (PostgreSQL waits
        for that transaction to end before answering)."""
        statement = (
            self._upsert(_IDEMPOTENCY)
            .values(scope=scope, key=key, request_hash=request_hash, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(_IDEMPOTENCY.c.id)
        )
        record_id: int | None = await self.session.scalar(statement)
        return record_id

    async def idempotency_record(self, scope: str, key: str) -> IdempotencyRecord | None:
        result = await self.session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )
        return result.first()


def _as_utc(value: datetime | str) -> datetime:
    # An aggregate loses the column type, so SQLite hands back the stored text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
