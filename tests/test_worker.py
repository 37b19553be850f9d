"""The worker expires holds and lots, each in its own transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bff.kernel.types import utcnow
from bff.ledger.models import Hold, Wallet
from bff.ledger.service import LedgerService, Source
from bff.worker import JobReport, expire_holds, expire_lots
from tests.fixtures.factories import accrue, make_customer


async def test_worker_round_expires_due_holds_and_lots(db):
    customer = await make_customer(db)
    past = utcnow() - timedelta(days=40)
    await accrue(db, customer.id, 70, expires_in=timedelta(days=30), clock=past)  # expired
    await accrue(db, customer.id, 30)
    async with db.unit_of_work() as session:
        await LedgerService(session, clock=lambda: past).hold(
            customer.id,
            "POINTS",
            20,
            reason="Old checkout",
            source=Source("t"),
            ttl=timedelta(minutes=15),
        )
    report = JobReport()
    await expire_holds(db, 100, report)
    await expire_lots(db, 100, report)
    assert (report.holds_expired, report.lots_expired, report.points_expired) == (1, 1, 70)
    async with db.read() as session:
        wallet = (await session.scalars(select(Wallet))).one()
        hold = (await session.scalars(select(Hold))).one()
    assert (wallet.balance, wallet.held, hold.status) == (30, 0, "expired")
    again = JobReport()
    await expire_holds(db, 100, again)
    await expire_lots(db, 100, again)
    assert not again.did_work
