"""Background jobs: accrue due pending accruals, expire holds past their time, burn
expired lots and let inactive levels decay.

Each hold or wallet is handled in its own short transaction, so a worker never keeps
many wallets locked and several workers can run at once: the row lock and the
status re-check make a second worker's attempt a no-op.

A worker outlives its database: each round starts by asking it one short question, and
while it does not answer the worker says so once, waits longer each time (with jitter,
so workers do not come back in step) and tries again, without giving up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from bff.earning.cashback import CashbackHistory, ChangeReason
from bff.earning.service import AccrualQueue, EarningPolicy
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.types import utcnow
from bff.ledger.service import LedgerService
from bff.levels.service import LevelPolicy, LevelService
from bff.partners.boosts import BoostService
from bff.policies import Policies
from push.delivery import deliver, start_due_campaigns
from push.sender import Sender
from push.sender import configured as push_configured
from push.transactional import queue_transactional

log = logging.getLogger("bff.worker")

PROBE_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class JobReport:
    accrued: int = 0
    holds_expired: int = 0
    lots_expired: int = 0
    points_expired: int = 0
    levels_decayed: int = 0
    boosts_ended: int = 0
    pushes_queued: int = 0
    campaigns_started: int = 0
    pushes_handled: int = 0
    failures: int = 0

    @property
    def did_work(self) -> bool:
        return bool(
            self.accrued
            or self.holds_expired
            or self.lots_expired
            or self.levels_decayed
            or self.boosts_ended
            or self.pushes_queued
            or self.campaigns_started
            or self.pushes_handled
        )

    def add(self, other: JobReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


async def drain_accruals(
    db: Database,
    policy: EarningPolicy,
    batch_size: int,
    report: JobReport,
    *,
    max_batches: int = 20,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Batches of due accruals, each in its own transaction, until the queue is empty."""
    for _ in range(max_batches):
        try:
            async with db.unit_of_work() as session:
                taken = await AccrualQueue(session, policy, clock=clock).drain(batch_size)
        except Exception:
            report.failures += 1
            log.exception("could not drain a batch of pending accruals")
            return
        report.accrued += taken
        if taken < batch_size:
            return


async def decay_levels(
    db: Database, policy: LevelPolicy, batch_size: int, report: JobReport
) -> None:
    async with db.read() as session:
        customer_ids = await LevelService(session, policy).decay_candidates(batch_size)
    for customer_id in customer_ids:
        try:
            async with db.unit_of_work() as session:
                dropped = await LevelService(session, policy).decay(customer_id)
                if dropped is not None:
                    history = CashbackHistory(session, policy)
                    await history.observe(customer_id, ChangeReason.DECAY, "decay-round")
        except Exception:
            report.failures += 1
            log.exception("could not decay the level of customer %s", customer_id)
            continue
        if dropped is not None:
            report.levels_decayed += 1


async def end_boosts(db: Database, batch_size: int, report: JobReport) -> None:
    """Partner products' boosts whose days ran out end (their periods ended already, so
    orders were never boosted past the end; this keeps the current state true)."""
    try:
        async with db.unit_of_work() as session:
            ended = await BoostService(session).end_expired(batch_size)
            history = CashbackHistory(session)
            for customer_id in ended:
                await history.observe(customer_id, ChangeReason.BOOST_EXPIRED, "boost-expiry")
            report.boosts_ended += len(ended)
    except Exception:
        report.failures += 1
        log.exception("could not end expired boosts")


async def expire_holds(db: Database, batch_size: int, report: JobReport) -> None:
    async with db.read() as session:
        hold_ids = await LedgerService(session).due_hold_ids(batch_size)
    for hold_id in hold_ids:
        try:
            async with db.unit_of_work() as session:
                result = await LedgerService(session).expire_hold(hold_id)
        except Exception:
            report.failures += 1
            log.exception("could not expire hold %s", hold_id)
            continue
        if result is not None:
            report.holds_expired += 1


async def expire_lots(db: Database, batch_size: int, report: JobReport) -> None:
    async with db.read() as session:
        wallet_ids = await LedgerService(session).wallet_ids_with_due_lots(batch_size)
    for wallet_id in wallet_ids:
        try:
            async with db.unit_of_work() as session:
                entry = await LedgerService(session).expire_lots(wallet_id)
        except Exception:
            report.failures += 1
            log.exception("could not expire lots of wallet %s", wallet_id)
            continue
        if entry is not None:
            report.lots_expired += 1
            report.points_expired -= entry.delta


async def send_pushes(
    db: Database, settings: Settings, sender: Sender, report: JobReport, *, max_batches: int = 20
) -> None:
    """Queue transactional pushes, start due campaigns, then send up to ``max_batches``."""
    now = utcnow()
    try:
        report.pushes_queued += await queue_transactional(db, settings, now)
        report.campaigns_started += await start_due_campaigns(db, now)
        for _ in range(max_batches):
            done = await deliver(db, sender, settings, utcnow())
            report.pushes_handled += done.claimed
            if not done.claimed:
                return
    except Exception:
        report.failures += 1
        log.exception("could not send pushes")


async def run_once(
    db: Database,
    settings: Settings,
    sender: Sender | None = None,
    policies: Policies | None = None,
) -> JobReport:
    policies = policies or Policies.from_settings(settings)
    batch_size = settings.worker_batch_size
    report = JobReport()
    await drain_accruals(db, policies.earning, batch_size, report)
    await expire_holds(db, batch_size, report)
    await expire_lots(db, batch_size, report)
    await decay_levels(db, policies.levels, batch_size, report)
    await end_boosts(db, batch_size, report)
    if sender is not None:
        await send_pushes(db, settings, sender, report)
    return report


async def run(settings: Settings, *, once: bool, stop: asyncio.Event | None = None) -> JobReport:
    db = Database(settings)
    policies = Policies.from_settings(settings)
    stop = stop or asyncio.Event()
    total = JobReport()
    sender = Sender(settings) if push_configured(settings) else None
    outage = Outage()
    try:
        while True:
            if not await outage.answers(db):
                if once:
                    total.failures += 1
                    return total
                await _pause(stop, outage.backoff())
                if stop.is_set():
                    return total
                continue
            try:
                report = await run_once(db, settings, sender, policies)
            except Exception:
                # The database went away in the middle of a round (the next round's
                # question tells), or a job failed unexpectedly: never the whole worker.
                log.exception("a worker round failed")
                total.failures += 1
                if once:
                    return total
                await _pause(stop, outage.backoff())
                continue
            total.add(report)
            if report.did_work:
                log.info("worker round: %s", report)
            if once or stop.is_set():
                return total
            if not report.did_work:  # a busy backlog goes on at once
                await _pause(stop, settings.worker_interval_seconds)
    finally:
        if sender is not None:
            await sender.close()
        await db.dispose()


class Outage:
    """Whether the database answers, remembered between rounds to log each outage once
    and to wait longer the longer it lasts."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.attempts = 0

    async def answers(self, db: Database) -> bool:
        try:
            async with asyncio.timeout(PROBE_SECONDS), db.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any way of not answering is an outage
            if self.since is None:
                self.since = time.monotonic()
                log.warning("the database does not answer (%s); retrying", error or type(error))
            self.attempts += 1
            return False
        if self.since is not None:
            log.warning("the database answers again after %.0f s", time.monotonic() - self.since)
            self.since, self.attempts = None, 0
        return True

    def backoff(self) -> float:
        ceiling = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(self.attempts, 10))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
