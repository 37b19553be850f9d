"""Importing balances from a previous system's CSV file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bff.customers.models import Customer
from bff.ledger.importing import (
    BadRow,
    ImportRefused,
    check_currency,
    import_rows,
    read_lines,
    read_rows,
)
from bff.ledger.models import IdempotencyRecord, LedgerEntry, Lot, Wallet

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)

GOOD_AND_BAD = """customer_id,amount,expires_at
anna,300,2027-03-31
bob,45,
,10,
carl,-5,
dora,12.5,
erik,70,yesterday
fred,80,2020-01-01
gus,90
hana,1000,2027-01-01T10:00:00+03:00
"""


def rows_of(text: str):
    return list(read_rows(text.splitlines(keepends=True), NOW))


async def wallets(db) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(
            select(Customer.external_id, Wallet.balance)
            .join(Wallet, Wallet.customer_id == Customer.id)
            .where(Wallet.currency == "POINTS")
        )
        return dict(rows.all())


def test_bad_rows_are_named_by_line_and_reason():
    bad = [row for row in rows_of(GOOD_AND_BAD) if isinstance(row, BadRow)]
    assert [(row.line, row.reason.split(" ")[0]) for row in bad] == [
        (4, "customer_id"),
        (5, "amount"),
        (6, "amount"),
        (7, "expires_at"),
        (8, "expires_at"),
        (9, "expected"),
    ]
    assert bad[4].reason == "expires_at is in the past"


def test_a_file_without_the_columns_is_refused():
    with pytest.raises(ImportRefused, match="customer_id, amount"):
        rows_of("id;points\nanna;1\n")


async def test_good_rows_are_imported_and_bad_rows_skipped(db):
    reported: list[BadRow] = []
    report = await import_rows(db, "POINTS", rows_of(GOOD_AND_BAD), on_bad_row=reported.append)
    assert (report.imported, report.already, report.failed) == (3, 0, 6)
    assert report.imported_total == 300 + 45 + 1000  # the file's total for the good rows
    assert [row.line for row in reported] == [4, 5, 6, 7, 8, 9]
    assert await wallets(db) == {"anna": 300, "bob": 45, "hana": 1000}
    async with db.read() as session:
        lots = dict(
            (await session.execute(select(Lot.amount, Lot.expires_at))).all()  # amount: expiry
        )
    assert lots[300] == datetime(2027, 4, 1, tzinfo=UTC)  # through the last day
    assert lots[45] is None
    assert lots[1000] == datetime(2027, 1, 1, 7, tzinfo=UTC)


async def test_an_interrupted_import_resumes_and_never_imports_twice(db):
    text = "customer_id,amount\n" + "".join(f"c-{n},{n + 1}\n" for n in range(25))
    rows = rows_of(text)

    def crashing():
        for number, row in enumerate(rows):
            if number == 12:
                raise OSError("disk gone")  # mid-way through the second batch of ten
            yield row

    with pytest.raises(OSError, match="disk gone"):
        await import_rows(db, "POINTS", crashing(), batch_size=10)
    assert len(await wallets(db)) == 10  # the first batch only: the second rolled back
    resumed = await import_rows(db, "POINTS", rows, batch_size=10)
    assert (resumed.imported, resumed.already, resumed.failed) == (15, 10, 0)
    assert await wallets(db) == {f"c-{n}": n + 1 for n in range(25)}
    again = await import_rows(db, "POINTS", rows, batch_size=10)
    assert (again.imported, again.already, again.already_total) == (0, 25, sum(range(1, 26)))
    async with db.read() as session:
        entries = await session.scalar(select(func.count()).select_from(LedgerEntry))
        keys = await session.execute(
            select(IdempotencyRecord.key, func.count(LedgerEntry.id))
            .join(LedgerEntry, LedgerEntry.idempotency_record_id == IdempotencyRecord.id)
            .group_by(IdempotencyRecord.key)
        )
    assert entries == 25
    assert dict(keys.all()) == {f"c-{n}": 1 for n in range(25)}  # each entry names its key


async def test_a_changed_balance_for_an_imported_customer_fails_that_row(db):
    await import_rows(db, "POINTS", rows_of("customer_id,amount\nanna,300\n"))
    report = await import_rows(db, "POINTS", rows_of("customer_id,amount\nanna,500\nbob,7\n"))
    assert (report.imported, report.failed) == (1, 1)
    assert "already has an imported balance" in report.first_failures[0].reason
    assert await wallets(db) == {"anna": 300, "bob": 7}


async def test_a_customer_twice_in_one_file_is_imported_once(db):
    report = await import_rows(db, "POINTS", rows_of("customer_id,amount\nanna,3\nanna,4\n"))
    assert (report.imported, report.failed) == (1, 1)
    assert await wallets(db) == {"anna": 3}


async def test_two_imports_of_one_file_at_once_import_it_once(db):
    text = "customer_id,amount\n" + "".join(f"c-{n},{n + 1}\n" for n in range(200))
    first, second = await asyncio.gather(
        import_rows(db, "POINTS", rows_of(text), batch_size=50),
        import_rows(db, "POINTS", rows_of(text), batch_size=50),
    )
    assert first.imported + second.imported == 200
    assert first.already + second.already == 200
    assert await wallets(db) == {f"c-{n}": n + 1 for n in range(200)}


async def test_a_disabled_or_unknown_currency_is_refused(db):
    with pytest.raises(ImportRefused, match="LEGACY is disabled"):
        await check_currency(db, "LEGACY")
    with pytest.raises(ImportRefused, match="no currency"):
        await check_currency(db, "NOPE")


def test_lines_are_read_as_a_stream_with_progress(tmp_path):
    path = tmp_path / "balances.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomer_id,amount\nanna,1\nb\xff,2\n")  # BOM, bad byte
    read: list[int] = []
    rows = list(read_rows(read_lines(path, read.append), NOW))
    assert sum(read) == path.stat().st_size
    assert rows[0].customer == "anna"
    assert rows[1] == BadRow(3, "not valid UTF-8")


def test_expiry_in_the_future_by_a_minute_is_kept():
    soon = (NOW + timedelta(minutes=1)).isoformat()
    (row,) = rows_of(f"customer_id,amount,expires_at\nanna,1,{soon}\n")
    assert row.expires_at == NOW + timedelta(minutes=1)
