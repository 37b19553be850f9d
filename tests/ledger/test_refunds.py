"""Refunds of captured payments: never more than was captured, once per key, the points
back in lots that keep the expiry of the lots they came from."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bff.kernel.types import utcnow
from bff.ledger.errors import (
    HoldNotCaptured,
    IdempotencyConflict,
    RefundExceedsCapture,
)
from bff.ledger.models import LedgerEntry, Lot, Wallet
from bff.ledger.service import REFUND_GRACE, IdempotencyKey, LedgerService, Source
from bff.worker import JobReport, expire_lots
from tests.fixtures.factories import accrue, make_customer
from tests.ledger.invariants import check_wallet_invariants

DAY = timedelta(days=1)


async def captured(db, customer_id: int, amount: int, *, clock=utcnow) -> int:
    async with db.unit_of_work() as session:
        ledger = LedgerService(session, clock=clock)
        hold = await ledger.hold(
            customer_id,
            "POINTS",
            amount,
            reason="Insurance policy",
            source=Source("partner", "insurer"),
            ttl=timedelta(minutes=15),
        )
        await ledger.capture(hold.hold.id)
    return hold.hold.id


async def refund(db, hold_id: int, amount: int, key: str, *, clock=utcnow):
    async with db.unit_of_work() as session:
        return await LedgerService(session, clock=clock).refund(
            hold_id, amount, reason="Policy cancelled", idempotency=IdempotencyKey("t", key)
        )


async def lots_of_entry(db, entry_id: int) -> list[tuple[int, object]]:
    async with db.read() as session:
        lots = await session.scalars(select(Lot).where(Lot.entry_id == entry_id).order_by(Lot.id))
        return [(lot.amount, lot.expires_at) for lot in lots]


async def wallet_of(db, customer_id: int) -> Wallet:
    async with db.read() as session:
        wallet = await session.scalar(select(Wallet).where(Wallet.customer_id == customer_id))
    return await check_wallet_invariants(db, wallet.id)


async def test_refunds_come_back_with_the_expiry_they_had(db):
    customer = await make_customer(db)
    soon = await accrue(db, customer.id, 100, expires_in=10 * DAY)
    await accrue(db, customer.id, 100)  # never expires
    hold_id = await captured(db, customer.id, 150)  # 100 expiring, then 50 undated
    async with db.read() as session:
        expiry = (
            await session.scalars(select(Lot.expires_at).where(Lot.entry_id == soon.entry.id))
        ).one()

    first = await refund(db, hold_id, 60, "r-1")
    # The longest-lived first: the 50 that never expire, then 10 of the expiring ones.
    assert await lots_of_entry(db, first.entry.id) == [(50, None), (10, expiry)]
    second = await refund(db, hold_id, 90, "r-2")
    assert await lots_of_entry(db, second.entry.id) == [(90, expiry)]
    with pytest.raises(RefundExceedsCapture) as refused:
        await refund(db, hold_id, 1, "r-3")
    assert refused.value.params == {"requested": 1, "refundable": 0}
    wallet = await wallet_of(db, customer.id)
    assert (wallet.balance, wallet.held) == (200, 0)


async def test_points_whose_expiry_passed_come_back_for_the_grace_period(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100, expires_in=DAY)
    hold_id = await captured(db, customer.id, 100)
    later = utcnow() + 3 * DAY
    given = await refund(db, hold_id, 100, "late", clock=lambda: later)
    assert await lots_of_entry(db, given.entry.id) == [(100, later + REFUND_GRACE)]
    await wallet_of(db, customer.id)


async def test_only_a_captured_payment_is_refunded(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    async with db.unit_of_work() as session:
        active = await LedgerService(session).hold(
            customer.id, "POINTS", 30, reason="Cart", source=Source("t"), ttl=timedelta(minutes=5)
        )
    with pytest.raises(HoldNotCaptured):
        await refund(db, active.hold.id, 10, "k")
    assert (await wallet_of(db, customer.id)).balance == 100


async def test_a_key_applies_once_and_only_to_its_own_request(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    hold_id = await captured(db, customer.id, 80)
    replays = await asyncio.gather(*(refund(db, hold_id, 30, "once") for _ in range(20)))
    assert sorted(replay.replayed for replay in replays) == [False] + [True] * 19
    assert len({replay.entry.id for replay in replays}) == 1
    with pytest.raises(IdempotencyConflict):
        await refund(db, hold_id, 31, "once")
    async with db.read() as session:
        refunds = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refund"))
        ).all()
    assert [entry.delta for entry in refunds] == [30]
    assert (await wallet_of(db, customer.id)).balance == 50


async def test_concurrent_refunds_never_give_back_more_than_was_captured(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    hold_id = await captured(db, customer.id, 100)
    results = await asyncio.gather(
        *(refund(db, hold_id, 30, f"k-{n}") for n in range(6)), return_exceptions=True
    )
    given = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, RefundExceedsCapture)]
    assert (len(given), len(refused)) == (3, 3)
    assert (await wallet_of(db, customer.id)).balance == 90


async def test_a_refund_racing_the_expiry_of_its_lots(db):
    customer = await make_customer(db)
    past = utcnow() - 2 * DAY
    await accrue(db, customer.id, 100, expires_in=DAY, clock=past)  # due to expire now
    await accrue(db, customer.id, 100)
    hold_id = await captured(db, customer.id, 120, clock=lambda: past)  # took the 100 first
    report = JobReport()
    await asyncio.gather(refund(db, hold_id, 120, "back"), expire_lots(db, 100, report))
    wallet = await wallet_of(db, customer.id)
    # Nothing of the old lot was left to burn; the refund's lots are not due yet.
    assert (wallet.balance, report.points_expired) == (200, 0)
