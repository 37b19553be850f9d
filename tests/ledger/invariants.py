"""Invariant checks of a wallet, computed from the entries alone."""

from __future__ import annotations

from sqlalchemy import func, select

from bff.kernel.db import Database
from bff.ledger.models import Hold, HoldStatus, LedgerEntry, Lot, Wallet


async def check_wallet_invariants(db: Database, wallet_id: int) -> Wallet:
    async with db.read() as session:
        wallet = await session.get(Wallet, wallet_id)
        entries = (
            await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.wallet_id == wallet_id)
                .order_by(LedgerEntry.version)
            )
        ).all()
        lots_left = await session.scalar(
            select(func.coalesce(func.sum(Lot.remaining), 0)).where(Lot.wallet_id == wallet_id)
        )
        active_held = await session.scalar(
            select(func.coalesce(func.sum(Hold.amount), 0)).where(
                Hold.wallet_id == wallet_id, Hold.status == HoldStatus.ACTIVE
            )
        )
    assert wallet is not None
    assert [e.version for e in entries] == list(range(1, len(entries) + 1)), "version gap"
    assert wallet.version == len(entries)
    balance = held = 0
    for entry in entries:
        balance += entry.delta
        held += entry.held_delta
        assert entry.balance_after == balance, f"balance_after wrong at v{entry.version}"
        assert entry.held_after == held, f"held_after wrong at v{entry.version}"
        assert held >= 0
    assert (wallet.balance, wallet.held) == (balance, held)
    assert held == active_held
    assert lots_left == max(0, balance)
    return wallet
