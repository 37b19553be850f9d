"""Ledger DataLoaders: one ``IN (...)`` query per batch, results in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial

from strawberry.dataloader import DataLoader

from bff.graphql.dataloaders import LoaderSet
from bff.kernel.db import Reader
from bff.ledger.models import Currency, Hold, LedgerEntry, Wallet
from bff.ledger.repository import LedgerRepository


@dataclass(frozen=True)
class Expiring:
    amount: int
    at: datetime


class LedgerLoaders(LoaderSet):
    @cached_property
    def wallets_by_customer_id(self) -> DataLoader[int, list[Wallet]]:
        return DataLoader(partial(_wallets_by_customer_id, self.reads))

    @cached_property
    def expiring_by_wallet_id(self) -> DataLoader[int, Expiring | None]:
        return DataLoader(partial(_expiring_by_wallet_id, self.reads))

    @cached_property
    def ledger_entry_by_id(self) -> DataLoader[int, LedgerEntry | None]:
        return DataLoader(partial(_entry_by_id, self.reads))

    @cached_property
    def hold_by_id(self) -> DataLoader[int, Hold | None]:
        return DataLoader(partial(_hold_by_id, self.reads))

    @cached_property
    def enabled_currencies(self) -> DataLoader[None, list[Currency]]:
        return self.shared("currencies", partial(_enabled_currencies, self.reads))


async def _wallets_by_customer_id(reads: Reader, customer_ids: Sequence[int]) -> list[list[Wallet]]:
    async with reads.read() as session:
        wallets = await LedgerRepository(session).wallets_by_customer_ids(customer_ids)
    grouped: dict[int, list[Wallet]] = defaultdict(list)
    for wallet in wallets:
        grouped[wallet.customer_id].append(wallet)
    return [grouped[customer_id] for customer_id in customer_ids]


async def _expiring_by_wallet_id(reads: Reader, wallet_ids: Sequence[int]) -> list[Expiring | None]:
    async with reads.read() as session:
        found = await LedgerRepository(session).soonest_expiry_by_wallet_ids(wallet_ids)
    return [Expiring(*found[wallet_id]) if wallet_id in found else None for wallet_id in wallet_ids]


async def _entry_by_id(reads: Reader, entry_ids: Sequence[int]) -> list[LedgerEntry | None]:
    async with reads.read() as session:
        entries = await LedgerRepository(session).entries_by_ids(entry_ids)
    by_id = {entry.id: entry for entry in entries}
    return [by_id.get(entry_id) for entry_id in entry_ids]


async def _hold_by_id(reads: Reader, hold_ids: Sequence[int]) -> list[Hold | None]:
    async with reads.read() as session:
        rows = await LedgerRepository(session).holds_by_ids(hold_ids)
    by_id = {row.id: row for row in rows}
    return [by_id.get(pk) for pk in hold_ids]


async def _enabled_currencies(reads: Reader, keys: Sequence[None]) -> list[list[Currency]]:
    async with reads.read() as session:
        currencies = await LedgerRepository(session).currencies()
    enabled = [currency for currency in currencies if currency.enabled]
    return [enabled for _ in keys]
