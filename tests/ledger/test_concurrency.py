"""Many writers on one wallet at once, each on its own connection; then every invariant."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from bff.kernel.db import Database
from bff.kernel.types import utcnow
from bff.ledger import errors
from bff.ledger.models import IdempotencyRecord, LedgerEntry, Wallet
from bff.ledger.service import IdempotencyKey, LedgerService, Source
from tests.fixtures.factories import accrue, make_customer
from tests.ledger.invariants import check_wallet_invariants

NOW = utcnow()
EXPECTED = (
    errors.InsufficientFunds,
    errors.VersionConflict,
    errors.HoldNotActive,
)


class Script:
    """A reproducible mix of 200 operations, 40 of them retries of an earlier key."""

    def __init__(self, db: Database, customer_id: int, seed: int) -> None:
        self.db = db
        self.customer_id = customer_id
        self.random = random.Random(seed)
        self.outcomes: Counter[str] = Counter()
        self.hold_ids: list[int] = []

    def scope(self) -> str:
        return f"customer:{self.customer_id}"

    async def accrue(self, key: str, amount: int) -> None:
        # A retry must be the same request: the expiry is fixed when the order is made.
        expires_at = NOW + timedelta(days=5 + amount) if amount % 2 else None
        async with self.db.unit_of_work() as session:
            posting = await LedgerService(session).accrue(
                self.customer_id,
                "POINTS",
                amount,
                reason="Order",
                source=Source("order", key),
                idempotency=IdempotencyKey(self.scope(), key),
                expires_at=expires_at,
            )
        self.outcomes["accrual-replayed" if posting.replayed else "accrual"] += 1

    async def spend(self, key: str, amount: int, expected_version: int | None) -> None:
        async with self.db.unit_of_work() as session:
            posting = await LedgerService(session).spend(
                self.customer_id,
                "POINTS",
                amount,
                reason="Gift",
                source=Source("gift", key),
                idempotency=IdempotencyKey(self.scope(), key),
                expected_version=expected_version,
            )
        self.outcomes["spend-replayed" if posting.replayed else "spend"] += 1

    async def hold_then_resolve(self, key: str, amount: int, action: str) -> None:
        async with self.db.unit_of_work() as session:
            held = await LedgerService(session).hold(
                self.customer_id,
                "POINTS",
                amount,
                reason="Checkout",
                source=Source("hold", key),
                ttl=timedelta(minutes=15),
                idempotency=IdempotencyKey(self.scope(), key),
            )
        self.outcomes["hold"] += 1
        await asyncio.sleep(0)
        async with self.db.unit_of_work() as session:
            service = LedgerService(session)
            if action == "capture":
                await service.capture(held.hold.id, max(1, amount // 2))
            elif action == "void":
                await service.void(held.hold.id)
        self.outcomes[action] += 1

    async def run(self, operation: str, task) -> None:
        try:
            await task
        except EXPECTED as error:
            self.outcomes[f"{operation}-refused:{error.code}"] += 1

    def refused(self, operation: str) -> int:
        prefix = f"{operation}-refused:"
        return sum(n for name, n in self.outcomes.items() if name.startswith(prefix))

    def tasks(self) -> list:
        jobs = []
        retried: list[tuple[str, int]] = []
        for number in range(160):
            key = f"op-{number}"
            kind = number % 4
            amount = self.random.randint(1, 60)
            if kind in (0, 1):
                jobs.append(("accrual", self.accrue(key, amount)))
                retried.append((key, amount))
            elif kind == 2:
                version = self.random.choice([None, None, self.random.randint(1, 40)])
                big = self.random.randint(50, 400)  # big enough to hit an empty wallet
                jobs.append(("spend", self.spend(key, big, version)))
            else:
                action = self.random.choice(["capture", "void", "keep"])
                jobs.append(("hold", self.hold_then_resolve(key, amount, action)))
        for key, amount in self.random.sample(retried, 40):
            jobs.append(("accrual", self.accrue(key, amount)))  # a client retry, same key
        self.random.shuffle(jobs)
        return [self.run(operation, job) for operation, job in jobs]


async def test_two_hundred_concurrent_writers_keep_every_invariant(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 500)
    script = Script(db, customer.id, seed=20261122)
    jobs = script.tasks()
    assert len(jobs) == 200
    await asyncio.gather(*jobs)

    async with db.read() as session:
        wallet = (await session.scalars(select(Wallet))).one()
        kinds = Counter(
            dict(
                (
                    await session.execute(
                        select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)
                    )
                ).all()
            )
        )
        records = (await session.scalars(select(IdempotencyRecord.id))).all()
        entries_per_record = Counter(
            (
                await session.scalars(
                    select(LedgerEntry.idempotency_record_id).where(
                        LedgerEntry.idempotency_record_id.is_not(None)
                    )
                )
            ).all()
        )
        entries_per_key = Counter(
            (
                await session.scalars(
                    select(LedgerEntry.source_id).where(
                        LedgerEntry.kind == "accrual", LedgerEntry.source_type == "order"
                    )
                )
            ).all()
        )
    await check_wallet_invariants(db, wallet.id)

    outcomes = script.outcomes
    assert outcomes["accrual"] == 80
    assert outcomes["accrual-replayed"] == 40
    assert kinds["accrual"] == 80 + 1, "every retried key produced exactly one entry"
    assert set(entries_per_key.values()) == {1}
    assert kinds["spend"] == outcomes["spend"]
    assert outcomes["spend"] + script.refused("spend") == 40
    assert kinds["hold"] == outcomes["hold"]
    assert outcomes["hold"] + script.refused("hold") == 40
    assert kinds["capture"] == outcomes["capture"]
    assert kinds["release"] >= outcomes["void"]
    assert outcomes["spend"] > 0
    assert outcomes["hold"] > 0
    assert outcomes["capture"] > 0
    assert entries_per_record == dict.fromkeys(records, 1), "one entry per idempotency key"
    assert len(records) == 80 + outcomes["spend"] + outcomes["hold"]


async def test_first_postings_to_a_new_wallet_race_safely(db):
    """Regression: a writer that found no wallet must not report a refusal when another
    writer created the wallet between its UPDATE and its diagnosis."""
    customers = [await make_customer(db, f"newcomer-{n}") for n in range(5)]

    async def accrue(customer_id: int, number: int) -> None:
        async with db.unit_of_work() as session:
            await LedgerService(session).accrue(
                customer_id, "COINS", number, reason="Welcome", source=Source("t", str(number))
            )

    await asyncio.gather(*(accrue(c.id, n) for c in customers for n in range(1, 41)))
    async with db.read() as session:
        wallets = (await session.scalars(select(Wallet))).all()
    assert len(wallets) == len(customers)
    for wallet in wallets:
        checked = await check_wallet_invariants(db, wallet.id)
        assert (checked.balance, checked.version) == (sum(range(1, 41)), 40)
