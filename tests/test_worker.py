"""The worker expires holds and lots, each in its own transaction."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bff import worker as jobs
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.embedded_db import EmbeddedServer
from bff.kernel.migrate import upgrade
from bff.kernel.types import utcnow
from bff.ledger.models import Hold, Wallet
from bff.ledger.service import LedgerService, Source
from bff.worker import JobReport, expire_holds, expire_lots
from tests.fixtures.database import FAST_AND_LOOSE
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


async def due_hold(db, subject: str) -> None:
    customer = await make_customer(db, subject)
    await accrue(db, customer.id, 50)
    past = utcnow() - timedelta(hours=1)
    async with db.unit_of_work() as session:
        await LedgerService(session, clock=lambda: past).hold(
            customer.id, "POINTS", 20, reason="Gone", source=Source("t"), ttl=timedelta(minutes=1)
        )


async def test_the_worker_outlives_a_database_outage(tmp_path, caplog):
    """A server of its own, stopped under a running worker and started again: the worker
    logs the outage once, keeps trying, and goes on with the work that waited."""
    server = EmbeddedServer(tmp_path / "postgres", settings=FAST_AND_LOOSE)
    url = server.ensure_running("outage")
    settings = Settings(data_dir=tmp_path, database_url=url, worker_interval_seconds=0.1)
    db = Database(settings)
    try:
        await upgrade(db.engine)
        await due_hold(db, "before")
        stop = asyncio.Event()
        worker = asyncio.create_task(jobs.run(settings, once=False, stop=stop))
        await wait_for_expired_holds(db, 1)
        server.stop()
        await asyncio.sleep(2)  # rounds fail meanwhile
        assert not worker.done()
        server.ensure_running("outage")
        await db.engine.dispose()  # this test's own connections died with the server
        await due_hold(db, "after")
        await wait_for_expired_holds(db, 2)
        stop.set()
        report = await asyncio.wait_for(worker, 30)
    finally:
        await db.dispose()
        server.stop()
    assert report.holds_expired == 2
    said = [r.getMessage() for r in caplog.records if r.name == "bff.worker"]
    assert len([m for m in said if "does not answer" in m]) == 1, said
    assert len([m for m in said if "answers again" in m]) == 1, said


async def wait_for_expired_holds(db, count: int) -> None:
    for _ in range(300):
        try:
            async with db.read() as session:
                statuses = (await session.scalars(select(Hold.status))).all()
            if statuses.count("expired") >= count:
                return
        except Exception:  # noqa: S110 (the database may be coming back)
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} holds never expired")
