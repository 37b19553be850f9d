"""Ledger DataLoaders: one ``IN (...)`` query per batch, results in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bff.db import Reader
from bff.ledger.models import Currency, LedgerEntry, Wallet
from bff.ledger.repository import LedgerRepository


@dataclass(frozen=True)
class Expiring:
    amount: int
    at: datetime


class LedgerLoaders:
    def __init__(self, db: Reader) -> None:
        self.db = db

    async def wallets_by_customer_id(self, customer_ids: Sequence[int]) -> list[list[Wallet]]:
        async with self.db.read() as session:
            wallets = await LedgerRepository(session).wallets_by_customer_ids(customer_ids)
        grouped: dict[int, list[Wallet]] = defaultdict(list)
        for wallet in wallets:
            grouped[wallet.customer_id].append(wallet)
        return [grouped[customer_id] for customer_id in customer_ids]

    async def expiring_by_wallet_id(self, wallet_ids: Sequence[int]) -> list[Expiring | None]:
        async with self.db.read() as session:
            found = await LedgerRepository(session).soonest_expiry_by_wallet_ids(wallet_ids)
        return [
            Expiring(*found[wallet_id]) if wallet_id in found else None for wallet_id in wallet_ids
        ]

    async def entry_by_id(self, entry_ids: Sequence[int]) -> list[LedgerEntry | None]:
        async with self.db.read() as session:
            entries = await LedgerRepository(session).entries_by_ids(entry_ids)
        by_id = {entry.id: entry for entry in entries}
        return [by_id.get(entry_id) for entry_id in entry_ids]

    async def enabled_currencies(self, keys: Sequence[None]) -> list[list[Currency]]:
        async with self.db.read() as session:
            currencies = await LedgerRepository(session).currencies()
        enabled = [currency for currency in currencies if currency.enabled]
        return [enabled for _ in keys]
