"""The per-customer reads that run on the raw driver (bff.kernel.driver, on asyncpg) answer
exactly as their ORM twins, which still serve every unit of work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.repository import CustomerRepository
from bff.earning.repository import EarningRepository
from bff.earning.service import CompletedOrder, OrderService
from bff.kernel.db import Database
from bff.kernel.driver import driver_reads
from bff.kernel.secrets import SecretBox
from bff.kernel.types import utcnow
from bff.ledger.repository import LedgerRepository
from bff.levels.repository import LevelRepository
from bff.partners.boosts import BoostService, ProductState
from bff.partners.repository import BoostRepository, PartnerRepository
from bff.policies import Policies
from tests.conftest import counting_statements
from tests.fixtures.earning import make_rule
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.partners import activate, make_offer, make_partner

Read = Callable[[AsyncSession], Coroutine[Any, Any, Any]]


async def seed(db: Database, settings: Any) -> dict[str, Any]:
    """Two customers with wallets, lots, a pending accrual, a level (from the order) and
    activations, and a third with nothing at all."""
    await make_rule(db)
    partner = await make_partner(db, SecretBox.from_settings(settings))
    offers = [await make_offer(db, partner, title=f"Offer {n}") for n in range(3)]
    ids = []
    for number, subject in enumerate(("anna", "boris")):
        customer_id = await activate(db, offers[number], subject)
        await activate(db, offers[2], subject)
        await accrue(db, customer_id, 100 + number, expires_in=timedelta(days=3))
        await accrue(db, customer_id, 7, expires_in=timedelta(days=3, hours=5))
        await accrue(db, customer_id, 50, currency="COINS")
        async with db.unit_of_work() as session:
            await OrderService(session, Policies.from_settings(settings).earning).complete(
                CompletedOrder(
                    external_id=f"order-{subject}",
                    brand="grocery",
                    customer_external_id=subject,
                    city="Kazan",
                    amount=30_000,
                    completed_at=utcnow(),
                )
            )
        ids.append(customer_id)
    boosted = await make_offer(db, partner, title="Card", boost_bp=200)
    await activate(db, boosted, "anna")
    async with db.unit_of_work() as session:
        await BoostService(session).report(
            boosted, ids[0], ProductState.ACTIVATED, utcnow() - timedelta(hours=1)
        )
        await EarningRepository(session).set_cashback_cap("POINTS", None, 900, "t", utcnow())
        await EarningRepository(session).set_cashback_cap("POINTS", "grocery", 700, "t", utcnow())
    nobody = (await make_customer(db, "nobody")).id
    async with db.read() as session:
        wallets = await LedgerRepository(session).wallets_by_customer_ids([*ids, nobody])
    return {
        "customers": [*ids, nobody, 10**9],
        "wallets": [w.id for w in wallets] + [10**9],
        "offers": [o.id for o in offers] + [10**9],
    }


def reads(seeded: dict[str, Any]) -> dict[str, Read]:
    customers, wallets, offers = seeded["customers"], seeded["wallets"], seeded["offers"]
    return {
        "customer by subject": lambda s: CustomerRepository(s).by_external_id("anna"),
        "unknown subject": lambda s: CustomerRepository(s).by_external_id("ghost"),
        "customers by id": lambda s: CustomerRepository(s).by_ids(customers),
        "wallets": lambda s: LedgerRepository(s).wallets_by_customer_ids(customers),
        "soonest expiry": lambda s: LedgerRepository(s).soonest_expiry_by_wallet_ids(wallets),
        "standings": lambda s: LevelRepository(s).standings(customers),
        "pending sums": lambda s: EarningRepository(s).pending_sums(customers),
        "activations": lambda s: PartnerRepository(s).activations_of(customers[0], offers),
        "no activations": lambda s: PartnerRepository(s).activations_of(customers[2], offers),
        "boosts": lambda s: BoostRepository(s).periods_at(customers[0], utcnow()),
        "no boosts": lambda s: BoostRepository(s).periods_at(customers[1], utcnow()),
        "brand cap": lambda s: EarningRepository(s).cashback_cap("POINTS", "grocery"),
        "every brand's cap": lambda s: EarningRepository(s).cashback_cap("POINTS", "pizza"),
    }


def plain(value: Any) -> Any:
    """Models as their column values, so two reads compare by what they hold."""
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    table = getattr(value, "__table__", None)
    if table is not None:
        return {column.key: getattr(value, column.key) for column in table.columns}
    return value


async def test_driver_reads_answer_as_their_orm_twins(db, settings):
    seeded = await seed(db, settings)
    for name, read in reads(seeded).items():
        async with db.unit_of_work() as session:  # the ORM: a unit of work never uses the driver
            assert await driver_reads(session) is None
            through_orm = plain(await read(session))
        with counting_statements(db) as counter:
            async with db.read() as session:
                assert await driver_reads(session) is not None
                on_driver = plain(await read(session))
        assert on_driver == through_orm, name
        assert counter.count == 1, name
    # Not empty comparisons: the seed shows in what both read.
    async with db.read() as session:
        expiring = await LedgerRepository(session).soonest_expiry_by_wallet_ids(seeded["wallets"])
        pending = await EarningRepository(session).pending_sums(seeded["customers"])
        standings = await LevelRepository(session).standings(seeded["customers"])
        activations = await PartnerRepository(session).activations_of(
            seeded["customers"][0], seeded["offers"]
        )
    # Lots expiring within a day of the soonest count together: 100 + 7 and 101 + 7.
    assert sorted(amount for amount, _at in expiring.values()) == [107, 108]
    assert len(standings) == 2
    assert sorted(a.offer_id for a in activations) == [seeded["offers"][0], seeded["offers"][2]]
    async with db.read() as session:
        assert await EarningRepository(session).cashback_cap("POINTS", "grocery") == 700
        assert await EarningRepository(session).cashback_cap("POINTS", "pizza") == 900
        boosts = await BoostRepository(session).periods_at(seeded["customers"][0], utcnow())
    assert [bp for _, bp, _ in boosts] == [200]
    assert set(pending) == {(seeded["customers"][0], "COINS"), (seeded["customers"][1], "COINS")}


async def test_only_read_sessions_read_on_the_driver(db):
    async with db.read() as session:
        assert await driver_reads(session) is not None
    async with db.read_session() as session:
        assert await driver_reads(session) is not None
    async with db.unit_of_work() as session:
        assert await driver_reads(session) is None


async def test_a_session_that_gave_back_its_connection_gets_the_new_one(db):
    customer = await make_customer(db)
    async with db.read() as session:
        first = await driver_reads(session)
        await session.rollback()  # the connection goes back to the pool
        second = await driver_reads(session)
        assert second is not None
        assert second is not first
        assert [c.id for c in await CustomerRepository(session).by_ids([customer.id])] == [
            customer.id
        ]


def test_models_from_the_driver_work_in_a_fresh_process():
    # The first request of a worker may read on the driver before any ORM statement ran,
    # when the mappers are not configured yet.
    script = (
        "from bff.customers.models import Customer\n"
        "from datetime import datetime, timedelta, timezone\n"
        "from sqlalchemy.dialects.postgresql.asyncpg import dialect\n"
        "from bff.kernel.driver import driver_models\n"
        "moscow = timezone(timedelta(hours=3))\n"
        "row = (7, 'anna', None, 'en', None, datetime(2026, 12, 2, 13, tzinfo=moscow))\n"
        "[customer] = driver_models(Customer, [row], dialect())\n"
        "print(customer.id, customer.external_id, customer.created_at.isoformat())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    answer = (done.returncode, done.stdout.strip())
    assert answer == (0, "7 anna 2026-12-02T10:00:00+00:00"), done.stderr
