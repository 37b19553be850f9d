"""Every SQL statement of the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Interval, Select, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

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


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._dialect = session.bind.dialect.name if session.bind else "sqlite"

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self._dialect == "postgresql" else sqlite_insert)(table)

    # currencies

    async def currency(self, code: str) -> Currency | None:
        return await self.session.get(Currency, code)

    async def currencies(self) -> Sequence[Currency]:
        result = await self.session.scalars(select(Currency).order_by(Currency.code))
        return result.all()

    # wallets

    async def lock_wallet(self, customer_id: int, currency: str) -> Wallet:
        """The wallet row, created if missing, locked until the transaction ends."""
        wallet = await self._select_wallet_for_update(customer_id, currency)
        if wallet is not None:
            return wallet
        now = utcnow()
        insert = self._insert(Wallet.__table__).values(
            customer_id=customer_id,
            currency=currency,
            balance=0,
            held=0,
            version=0,
            created_at=now,
            updated_at=now,
        )
        await self.session.execute(
            insert.on_conflict_do_nothing(index_elements=["customer_id", "currency"])
        )
        wallet = await self._select_wallet_for_update(customer_id, currency)
        assert wallet is not None
        return wallet

    async def lock_wallet_by_id(self, wallet_id: int) -> Wallet | None:
        statement = select(Wallet).where(Wallet.id == wallet_id).with_for_update()
        return await self._fresh_wallet(statement)

    async def _select_wallet_for_update(self, customer_id: int, currency: str) -> Wallet | None:
        statement = (
            select(Wallet)
            .where(Wallet.customer_id == customer_id, Wallet.currency == currency)
            .with_for_update()
        )
        return await self._fresh_wallet(statement)

    async def _fresh_wallet(self, statement: Select[Wallet]) -> Wallet | None:
        # populate_existing: a locked read must never be served from the identity map.
        result = await self.session.scalars(statement.execution_options(populate_existing=True))
        return result.first()

    async def save_wallet(self, wallet: Wallet) -> None:
        """Flush the wallet; the mapper's version check raises ``StaleDataError`` on a race."""
        await self.session.flush()

    async def wallets_by_customer_ids(self, customer_ids: Sequence[int]) -> Sequence[Wallet]:
        result = await self.session.scalars(
            select(Wallet)
            .where(Wallet.customer_id.in_(customer_ids))
            .order_by(Wallet.customer_id, Wallet.currency)
        )
        return result.all()

    async def wallet(self, customer_id: int, currency: str) -> Wallet | None:
        result = await self.session.scalars(
            select(Wallet).where(Wallet.customer_id == customer_id, Wallet.currency == currency)
        )
        return result.first()

    # entries

    async def add_entry(self, entry: LedgerEntry) -> LedgerEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def entry(self, entry_id: int) -> LedgerEntry | None:
        return await self.session.get(LedgerEntry, entry_id)

    async def entries_by_ids(self, entry_ids: Sequence[int]) -> Sequence[LedgerEntry]:
        result = await self.session.scalars(
            select(LedgerEntry).where(LedgerEntry.id.in_(entry_ids))
        )
        return result.all()

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

    async def add_hold(self, hold: Hold) -> Hold:
        self.session.add(hold)
        await self.session.flush()
        return hold

    async def hold(self, hold_id: int) -> Hold | None:
        result = await self.session.scalars(
            select(Hold).where(Hold.id == hold_id).execution_options(populate_existing=True)
        )
        return result.first()

    async def due_hold_ids(self, now: datetime, limit: int) -> Sequence[int]:
        result = await self.session.scalars(
            select(Hold.id)
            .where(Hold.status == HoldStatus.ACTIVE, Hold.expires_at <= now)
            .order_by(Hold.expires_at, Hold.id)
            .limit(limit)
        )
        return result.all()

    # lots

    async def add_lot(self, lot: Lot) -> None:
        self.session.add(lot)
        await self.session.flush()

    async def open_lots(self, wallet_id: int) -> Sequence[Lot]:
        """Lots with something left, in spending order: soonest expiry first, undated last."""
        result = await self.session.scalars(
            select(Lot)
            .where(Lot.wallet_id == wallet_id, Lot.remaining > 0)
            .order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.id)
            .execution_options(populate_existing=True)
        )
        return result.all()

    async def save(self, *rows: Hold | Lot) -> None:
        await self.session.flush()

    async def wallet_ids_with_due_lots(self, now: datetime, limit: int) -> Sequence[int]:
        result = await self.session.scalars(
            select(Lot.wallet_id)
            .where(Lot.expires_at <= now, Lot.remaining > 0)
            .group_by(Lot.wallet_id)
            .order_by(func.min(Lot.expires_at))
            .limit(limit)
        )
        return result.all()

    async def due_lots(self, wallet_id: int, now: datetime) -> Sequence[Lot]:
        result = await self.session.scalars(
            select(Lot)
            .where(Lot.wallet_id == wallet_id, Lot.expires_at <= now, Lot.remaining > 0)
            .order_by(Lot.expires_at, Lot.id)
            .execution_options(populate_existing=True)
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

    async def claim_idempotency(self, scope: str, key: str, request_hash: str) -> bool:
        """Claim a key; False when somebody holds it (PostgreSQL waits for their commit)."""
        statement = (
            self._insert(IdempotencyRecord.__table__)
            .values(scope=scope, key=key, request_hash=request_hash, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def idempotency_record(self, scope: str, key: str) -> IdempotencyRecord | None:
        result = await self.session.scalars(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )
        return result.first()

    async def complete_idempotency(
        self, scope: str, key: str, *, entry_id: int | None, hold_id: int | None
    ) -> None:
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .values(entry_id=entry_id, hold_id=hold_id)
            .execution_options(synchronize_session=False)
        )


def _as_utc(value: datetime | str) -> datetime:
    # An aggregate loses the column type, so SQLite hands back the stored text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
