"""``loyalty-bff import-balances``: balances from a previous system, from a CSV file.

The file is read as a stream, a batch of rows at a time (constant memory whatever its
size). Each batch is one transaction: its rows are imported together or not at all.
Every customer's row claims an idempotency key (scope ``import:<currency>``, key the
customer's id), so a re-run after a crash skips what was imported and finishes the rest.
A row that cannot be read is reported with its line number and skipped; it never
half-applies.

Columns (a header line names them): ``customer_id`` (the identity provider's subject),
``amount`` (whole units, above zero) and optionally ``expires_at`` (ISO 8601 date or
time; a date means the end of that day, UTC).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.service import CustomerService
from bff.kernel.db import Database
from bff.ledger.bulk import Accrual
from bff.ledger.reasons import Reason
from bff.ledger.service import MAX_AMOUNT, LedgerService

REQUIRED = ("customer_id", "amount")
MAX_CUSTOMER_ID = 255
REASON = Reason("LEDGER_IMPORTED")


class ImportRefused(Exception):
    """The import cannot start; the message says why."""


@dataclass(frozen=True, slots=True)
class BalanceRow:
    line: int
    customer: str
    amount: int
    expires_at: datetime | None


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    imported_total: int = 0
    already: int = 0  # imported by an earlier run: skipped
    already_total: int = 0
    failed: int = 0
    first_failures: list[BadRow] = field(default_factory=list)

    def fail(self, row: BadRow) -> None:
        self.failed += 1
        if len(self.first_failures) < 100:
            self.first_failures.append(row)


def read_lines(path: Path, progress: Callable[[int], object]) -> Iterator[str]:
    """The file's lines as text, reporting bytes read; bad UTF-8 shows as U+FFFD and
    fails that row."""
    with path.open("rb") as raw:
        for chunk in raw:
            progress(len(chunk))
            yield chunk.decode("utf-8", errors="replace").removeprefix("\ufeff")


def read_rows(lines: Iterable[str], now: datetime) -> Iterator[BalanceRow | BadRow]:
    reader = csv.reader(lines)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportRefused(f"the header line must name {', '.join(missing)} (found {header})")
    index = {name: header.index(name) for name in (*REQUIRED, "expires_at") if name in header}
    for record in reader:
        if not any(value.strip() for value in record):
            continue  # blank line
        yield _row(reader.line_num, record, index, len(header), now)


def _row(
    line: int, record: list[str], index: dict[str, int], width: int, now: datetime
) -> BalanceRow | BadRow:
    if len(record) != width:
        return BadRow(line, f"expected {width} fields, found {len(record)}")
    if any("\ufffd" in value for value in record):
        return BadRow(line, "not valid UTF-8")
    customer = record[index["customer_id"]].strip()
    if not 0 < len(customer) <= MAX_CUSTOMER_ID:
        return BadRow(line, f"customer_id must be 1 to {MAX_CUSTOMER_ID} characters")
    text = record[index["amount"]].strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_AMOUNT:
        return BadRow(line, f"amount must be a whole number from 1 to {MAX_AMOUNT}, not {text!r}")
    expires_at = None
    if "expires_at" in index and record[index["expires_at"]].strip():
        expires_at = _expiry(record[index["expires_at"]].strip())
        if expires_at is None:
            return BadRow(line, "expires_at must be an ISO 8601 date or time")
        if expires_at <= now:
            return BadRow(line, "expires_at is in the past")
    return BalanceRow(line, customer, int(text), expires_at)


def _expiry(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:  # a date: points last through that day
        return datetime.combine(parsed.date(), time.min, UTC) + timedelta(days=1)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


async def check_currency(db: Database, currency: str) -> None:
    async with db.read() as session:
        known = {c.code: c for c in await LedgerService(session).currencies()}
    if currency not in known:
        raise ImportRefused(f"there is no currency {currency}")
    if not known[currency].enabled:
        raise ImportRefused(f"{currency} is disabled: enable it first")


async def import_rows(
    db: Database,
    currency: str,
    rows: Iterable[BalanceRow | BadRow],
    *,
    batch_size: int = 1000,
    workers: int = 2,
    on_bad_row: Callable[[BadRow], object] = lambda _: None,
) -> ImportReport:
    """Import with ``workers`` batches in flight, so reading and the database overlap.
    A worker reads its next batch without awaiting, so batches never share a row; when
    reading fails, the batches already read still finish, then the error is raised."""
    report = ImportReport()
    stream = iter(rows)

    async def worker() -> None:
        while batch := list(islice(stream, batch_size)):
            await _import_batch(db, currency, batch, report, on_bad_row)

    outcomes = await asyncio.gather(*(worker() for _ in range(workers)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return report


async def _import_batch(
    db: Database,
    currency: str,
    batch: list[BalanceRow | BadRow],
    report: ImportReport,
    on_bad_row: Callable[[BadRow], object],
) -> None:
    good: list[BalanceRow] = []
    for row in batch:
        if isinstance(row, BadRow):
            report.fail(row)
            on_bad_row(row)
        else:
            good.append(row)
    async with db.unit_of_work() as session:
        outcome = await BalanceImport(session, currency).apply(good)
    for bad in outcome.conflicts:
        report.fail(bad)
        on_bad_row(bad)
    report.imported += len(outcome.imported)
    report.imported_total += sum(row.amount for row in outcome.imported)
    report.already += len(outcome.already)
    report.already_total += sum(row.amount for row in outcome.already)


@dataclass
class BatchOutcome:
    imported: list[BalanceRow] = field(default_factory=list)
    already: list[BalanceRow] = field(default_factory=list)
    conflicts: list[BadRow] = field(default_factory=list)


class BalanceImport:
    """One batch in one transaction: customers, key claims, then one bulk posting."""

    def __init__(self, session: AsyncSession, currency: str) -> None:
        self.customers = CustomerService(session)
        self.ledger = LedgerService(session)
        self.currency = currency
        self.scope = f"import:{currency}"

    async def apply(self, rows: Sequence[BalanceRow]) -> BatchOutcome:
        outcome = BatchOutcome()
        if not rows:
            return outcome
        hashes = {row.customer: _hash(row) for row in reversed(rows)}  # first row wins
        claimed = await self.ledger.repository.claim_many(self.scope, hashes)
        earlier = await self.ledger.repository.request_hashes(
            self.scope, [row.customer for row in rows if row.customer not in claimed]
        )
        fresh: list[tuple[BalanceRow, int]] = []
        for row in rows:
            if row.customer in claimed:  # a second row for them is not fresh: pop
                fresh.append((row, claimed.pop(row.customer)))
            elif earlier.get(row.customer) == _hash(row):
                outcome.already.append(row)
            else:
                reason = (
                    f"customer {row.customer} already has an imported balance "
                    "(from an earlier line or run)"
                )
                outcome.conflicts.append(BadRow(row.line, reason))
        ids = await self.customers.ensure_many([row.customer for row, _ in fresh])
        await self.ledger.accrue_many(
            [self._accrual(row, ids[row.customer], record) for row, record in fresh]
        )
        outcome.imported = [row for row, _ in fresh]
        return outcome

    def _accrual(self, row: BalanceRow, customer_id: int, record_id: int) -> Accrual:
        return Accrual(
            customer_id=customer_id,
            currency=self.currency,
            amount=row.amount,
            reason=REASON,
            source_type="import",
            source_id=row.customer[:128],
            expires_at=row.expires_at,
            idempotency_record_id=record_id,
        )


def _hash(row: BalanceRow) -> str:
    # What a row asks for, in the width of a request hash (cheaper than request_hash's
    # JSON, which a million rows would feel).
    expiry = row.expires_at.isoformat() if row.expires_at else ""
    return hashlib.sha256(f"import|{row.amount}|{expiry}".encode()).hexdigest()
