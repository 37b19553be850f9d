"""``loyalty-bff convert-currency``: move every wallet of an old currency to a new one.

One transaction per wallet: its two ``convert`` entries commit together or not at all.
The amount is read under the wallet's lock, so re-running after a crash finishes the
wallets that were left and finds nothing to move in the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bff.kernel.db import Database
from bff.ledger.repository import LedgerRepository
from bff.ledger.service import LedgerService, Rate

PAGE = 500


class ConversionRefused(Exception):
    """The conversion cannot start; the message says why."""


@dataclass
class ConversionReport:
    wallets: int = 0  # wallets that had something available
    converted: int = 0
    nothing_to_move: int = 0  # less than one rate unit available, or emptied meanwhile
    debited: int = 0
    credited: int = 0


@dataclass(frozen=True)
class Conversion:
    source: str
    target: str
    rate: Rate
    dry_run: bool = False

    @property
    def reason(self) -> str:
        return f"Converted {self.source} to {self.target} at {self.rate.source}:{self.rate.target}"


async def check(db: Database, conversion: Conversion) -> int:
    """How many wallets have something to convert; refuses an impossible conversion."""
    if conversion.source == conversion.target:
        raise ConversionRefused("--from and --to must be different currencies")
    async with db.read() as session:
        repository = LedgerRepository(session)
        currencies = {c.code: c for c in await repository.currencies()}
        for code in (conversion.source, conversion.target):
            if code not in currencies:
                raise ConversionRefused(f"there is no currency {code}")
        if not currencies[conversion.target].enabled:
            raise ConversionRefused(f"{conversion.target} is disabled: enable it first")
        return await repository.count_convertible_wallets(conversion.source)


async def convert_all(
    db: Database, conversion: Conversion, progress: Callable[[int], object] = lambda _: None
) -> ConversionReport:
    report = ConversionReport()
    after = 0
    while True:
        async with db.read() as session:
            page = await LedgerRepository(session).convertible_wallets(
                conversion.source, after_id=after, limit=PAGE
            )
        if not page:
            return report
        for wallet_id, available in page:
            report.wallets += 1
            moved = (
                conversion.rate.apply(available)
                if conversion.dry_run
                else await _convert_one(db, conversion, wallet_id)
            )
            if moved is None or moved[1] <= 0:
                report.nothing_to_move += 1
            else:
                report.converted += 1
                report.debited += moved[0]
                report.credited += moved[1]
            progress(1)
        after = page[-1][0]


async def _convert_one(
    db: Database, conversion: Conversion, wallet_id: int
) -> tuple[int, int] | None:
    async with db.unit_of_work() as session:
        return await LedgerService(session).convert(
            wallet_id, conversion.target, conversion.rate, reason=conversion.reason
        )
