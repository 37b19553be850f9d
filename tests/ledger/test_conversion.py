"""Converting an old currency into a new one: exact, resumable, never twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bff.customers.service import CustomerService
from bff.ledger.conversion import Conversion, ConversionRefused, check, convert_all
from bff.ledger.models import Currency, LedgerEntry, Wallet
from bff.ledger.service import LedgerService, Rate, Source


async def set_enabled(db, code: str, enabled: bool) -> None:
    async with db.unit_of_work() as session:
        await session.execute(update(Currency).where(Currency.code == code).values(enabled=enabled))


async def legacy_balances(db, amounts: dict[str, int]) -> dict[str, int]:
    """Customers with LEGACY balances; LEGACY is disabled again afterwards, as it is
    when a program retires it."""
    await set_enabled(db, "LEGACY", True)
    ids = {}
    async with db.unit_of_work() as session:
        for subject, amount in amounts.items():
            customer = await CustomerService(session).ensure(subject)
            await LedgerService(session).accrue(
                customer.id, "LEGACY", amount, reason="Old system", source=Source("test", subject)
            )
            ids[subject] = customer.id
    await set_enabled(db, "LEGACY", False)
    return ids


async def balances(db, currency: str) -> dict[int, tuple[int, int]]:
    async with db.read() as session:
        rows = await session.scalars(select(Wallet).where(Wallet.currency == currency))
        return {w.customer_id: (w.balance, w.held) for w in rows}


async def convert_entries(db) -> dict[tuple[int, str], int]:
    async with db.read() as session:
        rows = await session.execute(
            select(LedgerEntry.customer_id, LedgerEntry.currency, func.count())
            .where(LedgerEntry.kind == "convert")
            .group_by(LedgerEntry.customer_id, LedgerEntry.currency)
        )
        return {(customer, currency): count for customer, currency, count in rows.all()}


ONE_TO_ONE = Conversion("LEGACY", "COINS", Rate(1, 1))


async def test_every_wallet_is_converted_once(db):
    ids = await legacy_balances(db, {"anna": 300, "bob": 45})
    report = await convert_all(db, ONE_TO_ONE)
    assert (report.wallets, report.converted, report.debited, report.credited) == (2, 2, 345, 345)
    assert await balances(db, "LEGACY") == {ids["anna"]: (0, 0), ids["bob"]: (0, 0)}
    assert await balances(db, "COINS") == {ids["anna"]: (300, 0), ids["bob"]: (45, 0)}
    again = await convert_all(db, ONE_TO_ONE)
    assert (again.wallets, again.converted) == (0, 0)
    assert set((await convert_entries(db)).values()) == {1}


async def test_only_whole_rate_units_move_and_the_rest_stays(db):
    ids = await legacy_balances(db, {"anna": 25})
    report = await convert_all(db, Conversion("LEGACY", "COINS", Rate(10, 3)))
    assert (report.debited, report.credited) == (20, 6)
    assert await balances(db, "LEGACY") == {ids["anna"]: (5, 0)}
    assert await balances(db, "COINS") == {ids["anna"]: (6, 0)}
    rest = await convert_all(db, Conversion("LEGACY", "COINS", Rate(10, 3)))
    assert (rest.wallets, rest.nothing_to_move, rest.credited) == (1, 1, 0)


async def test_points_held_stay_behind(db):
    ids = await legacy_balances(db, {"anna": 100})
    await set_enabled(db, "LEGACY", True)
    async with db.unit_of_work() as session:
        await LedgerService(session).hold(
            ids["anna"],
            "LEGACY",
            30,
            reason="At checkout",
            source=Source("t", "1"),
            ttl=timedelta(minutes=5),
        )
    await set_enabled(db, "LEGACY", False)
    await convert_all(db, ONE_TO_ONE)
    assert await balances(db, "LEGACY") == {ids["anna"]: (30, 30)}
    assert await balances(db, "COINS") == {ids["anna"]: (70, 0)}


async def test_an_interrupted_conversion_resumes_without_converting_twice(db):
    amounts = {f"c-{n}": 10 + n for n in range(7)}
    ids = await legacy_balances(db, amounts)
    done = 0

    def crash_after_three(_: int) -> None:
        nonlocal done
        done += 1
        if done == 3:
            raise KeyboardInterrupt  # as if the operator pressed Ctrl-C

    with pytest.raises(KeyboardInterrupt):
        await convert_all(db, ONE_TO_ONE, crash_after_three)
    assert len(await convert_entries(db)) == 3 * 2  # three wallets, both sides each
    resumed = await convert_all(db, ONE_TO_ONE)
    assert resumed.converted == 4
    coins = await balances(db, "COINS")
    assert {subject: coins[pk][0] for subject, pk in ids.items()} == amounts
    assert set((await convert_entries(db)).values()) == {1}


async def test_a_dry_run_changes_nothing(db):
    ids = await legacy_balances(db, {"anna": 300})
    report = await convert_all(db, Conversion("LEGACY", "COINS", Rate(1, 2), dry_run=True))
    assert (report.converted, report.credited) == (1, 600)
    assert await balances(db, "LEGACY") == {ids["anna"]: (300, 0)}
    assert await balances(db, "COINS") == {}


@pytest.mark.parametrize(
    ("source", "target", "problem"),
    [
        ("COINS", "COINS", "must be different"),
        ("NOPE", "COINS", "no currency NOPE"),
        ("COINS", "LEGACY", "LEGACY is disabled"),
    ],
)
async def test_impossible_conversions_are_refused(db, source, target, problem):
    with pytest.raises(ConversionRefused, match=problem):
        await check(db, Conversion(source, target, Rate(1, 1)))


@pytest.mark.parametrize("text", ["1", "0:1", "1:-2", "a:b", "1:1:1"])
def test_bad_rates(text):
    with pytest.raises(ValueError, match="not a rate"):
        Rate.parse(text)


async def test_two_conversions_at_once_convert_each_wallet_once(db):
    amounts = {f"c-{n}": 100 + n for n in range(30)}
    ids = await legacy_balances(db, amounts)
    first, second = await asyncio.gather(convert_all(db, ONE_TO_ONE), convert_all(db, ONE_TO_ONE))
    assert first.converted + second.converted == 30
    assert first.credited + second.credited == sum(amounts.values())
    coins = await balances(db, "COINS")
    assert {subject: coins[pk][0] for subject, pk in ids.items()} == amounts
    assert set((await balances(db, "LEGACY")).values()) == {(0, 0)}
    assert set((await convert_entries(db)).values()) == {1}
