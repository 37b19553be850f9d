"""The ledger's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bff.kernel.db import Database
from bff.kernel.types import utcnow
from bff.ledger import errors
from bff.ledger.models import Currency, EntryKind, HoldStatus, LedgerEntry, Lot
from bff.ledger.service import HoldResult, IdempotencyKey, LedgerService, Posting, Source
from tests.fixtures.factories import accrue, make_customer
from tests.ledger.invariants import check_wallet_invariants

SOURCE = Source("test", "1")


async def entry_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count(LedgerEntry.id))) or 0)


async def spend(db: Database, customer_id: int, amount: int, **kwargs) -> Posting:
    async with db.unit_of_work() as session:
        return await LedgerService(session).spend(
            customer_id, "POINTS", amount, reason="Spend", source=SOURCE, **kwargs
        )


async def hold(db: Database, customer_id: int, amount: int, ttl_minutes: int = 15) -> HoldResult:
    async with db.unit_of_work() as session:
        return await LedgerService(session).hold(
            customer_id,
            "POINTS",
            amount,
            reason="Hold",
            source=SOURCE,
            ttl=timedelta(minutes=ttl_minutes),
        )


async def test_accrual_posts_entry_and_lot(db):
    customer = await make_customer(db)
    posting = await accrue(db, customer.id, 150, expires_in=timedelta(days=30))
    assert (posting.entry.kind, posting.entry.delta, posting.entry.version) == ("accrual", 150, 1)
    assert (posting.wallet.balance, posting.wallet.available, posting.wallet.version) == (
        150,
        150,
        1,
    )
    wallet = await check_wallet_invariants(db, posting.wallet.id)
    assert wallet.balance == 150


async def test_idempotent_replay_returns_first_result_and_writes_once(db):
    customer = await make_customer(db)
    key = IdempotencyKey(f"customer:{customer.id}", "order-77")
    results = []
    for _ in range(3):
        async with db.unit_of_work() as session:
            results.append(
                await LedgerService(session).accrue(
                    customer.id, "POINTS", 40, reason="Order", source=SOURCE, idempotency=key
                )
            )
    assert [r.replayed for r in results] == [False, True, True]
    assert {r.entry.id for r in results} == {results[0].entry.id}
    assert {(r.wallet.balance, r.wallet.version) for r in results} == {(40, 1)}
    assert await entry_count(db) == 1


async def test_same_key_with_other_request_is_a_conflict_and_changes_nothing(db):
    customer = await make_customer(db)
    key = IdempotencyKey(f"customer:{customer.id}", "order-78")
    async with db.unit_of_work() as session:
        await LedgerService(session).accrue(
            customer.id, "POINTS", 40, reason="Order", source=SOURCE, idempotency=key
        )
    with pytest.raises(errors.IdempotencyConflict):
        async with db.unit_of_work() as session:
            await LedgerService(session).accrue(
                customer.id, "POINTS", 41, reason="Order", source=SOURCE, idempotency=key
            )
    assert await entry_count(db) == 1


async def test_failed_attempt_does_not_consume_its_key(db):
    customer = await make_customer(db)
    key = IdempotencyKey(f"customer:{customer.id}", "spend-1")
    with pytest.raises(errors.InsufficientFunds):
        await spend(db, customer.id, 10, idempotency=key)
    await accrue(db, customer.id, 10)
    posting = await spend(db, customer.id, 10, idempotency=key)
    assert (posting.replayed, posting.wallet.balance) == (False, 0)


async def test_stale_expected_version_is_rejected_and_changes_nothing(db):
    customer = await make_customer(db)
    first = await accrue(db, customer.id, 100)
    await accrue(db, customer.id, 5)  # someone posts after the checkout priced version 1
    with pytest.raises(errors.VersionConflict) as caught:
        await spend(db, customer.id, 50, expected_version=first.wallet.version)
    assert caught.value.params == {"expected": 1, "actual": 2}
    posting = await spend(db, customer.id, 50, expected_version=2)
    assert (posting.wallet.balance, posting.wallet.version) == (55, 3)
    await check_wallet_invariants(db, posting.wallet.id)


async def test_spend_cannot_take_held_points(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    await hold(db, customer.id, 80)
    with pytest.raises(errors.InsufficientFunds) as caught:
        await spend(db, customer.id, 30)
    assert caught.value.params == {"currency": "POINTS", "available": 20, "requested": 30}


@pytest.mark.parametrize("amount", [0, -5, True, 100_000_001, 1.5])
async def test_amounts_must_be_positive_whole_numbers(db, amount):
    customer = await make_customer(db)
    with pytest.raises(errors.InvalidAmount):
        await accrue(db, customer.id, amount)
    assert await entry_count(db) == 0


async def test_disabled_currency_is_refused(db):
    customer = await make_customer(db)
    with pytest.raises(errors.CurrencyDisabled):
        await accrue(db, customer.id, 10, currency="LEGACY")
    with pytest.raises(errors.CurrencyDisabled):
        await accrue(db, customer.id, 10, currency="NOPE")


async def test_partial_capture_releases_the_rest(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    reserved = await hold(db, customer.id, 60)
    assert (reserved.wallet.balance, reserved.wallet.held, reserved.wallet.available) == (
        100,
        60,
        40,
    )
    async with db.unit_of_work() as session:
        captured = await LedgerService(session).capture(reserved.hold.id, 45)
    kinds = [(e.kind, e.delta, e.held_delta) for e in captured.entries]
    assert kinds == [("capture", -45, -45), ("release", 0, -15)]
    assert (captured.wallet.balance, captured.wallet.held) == (55, 0)
    assert (captured.hold.status, captured.hold.captured_amount) == ("captured", 45)
    await check_wallet_invariants(db, captured.wallet.id)


async def test_hold_resolves_once(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    first = await hold(db, customer.id, 30)
    second = await hold(db, customer.id, 30)
    async with db.unit_of_work() as session:
        await LedgerService(session).capture(first.hold.id)
    async with db.unit_of_work() as session:
        await LedgerService(session).void(second.hold.id)
    entries_before = await entry_count(db)
    for hold_id, action in [
        (first.hold.id, "capture"),
        (first.hold.id, "void"),
        (second.hold.id, "capture"),
        (second.hold.id, "void"),
    ]:
        with pytest.raises(errors.HoldNotActive):
            async with db.unit_of_work() as session:
                await getattr(LedgerService(session), action)(hold_id)
    assert await entry_count(db) == entries_before
    wallet = await check_wallet_invariants(db, first.wallet.id)
    assert (wallet.balance, wallet.held) == (70, 0)


async def test_capture_more_than_held_is_refused(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    reserved = await hold(db, customer.id, 30)
    with pytest.raises(errors.CaptureExceedsHold):
        async with db.unit_of_work() as session:
            await LedgerService(session).capture(reserved.hold.id, 31)
    with pytest.raises(errors.NotFound):
        async with db.unit_of_work() as session:
            await LedgerService(session).capture(999_999)


async def test_hold_expires_once_and_cannot_be_captured_after(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100)
    reserved = await hold(db, customer.id, 30, ttl_minutes=10)
    async with db.unit_of_work() as session:
        assert await LedgerService(session).expire_hold(reserved.hold.id) is None  # not due
    later = utcnow() + timedelta(minutes=11)
    with pytest.raises(errors.HoldExpired):
        async with db.unit_of_work() as session:
            await LedgerService(session, clock=lambda: later).capture(reserved.hold.id)
    async with db.unit_of_work() as session:
        service = LedgerService(session, clock=lambda: later)
        assert await service.due_hold_ids(10) == [reserved.hold.id]
        expired = await service.expire_hold(reserved.hold.id)
    assert expired is not None
    assert (expired.hold.status, expired.wallet.held, expired.wallet.balance) == ("expired", 0, 100)
    async with db.unit_of_work() as session:
        assert (
            await LedgerService(session, clock=lambda: later).expire_hold(reserved.hold.id) is None
        )
    await check_wallet_invariants(db, reserved.wallet.id)


async def test_spends_take_soonest_expiring_lots_first(db):
    customer = await make_customer(db)
    late = await accrue(db, customer.id, 100, expires_in=timedelta(days=30))
    soon = await accrue(db, customer.id, 50, expires_in=timedelta(days=10))
    undated = await accrue(db, customer.id, 70)
    await spend(db, customer.id, 80)  # all 50 of "soon", then 30 of "late"
    async with db.read() as session:
        left = dict((await session.execute(select(Lot.entry_id, Lot.remaining))).all())
    assert left == {late.entry.id: 70, soon.entry.id: 0, undated.entry.id: 70}


async def test_expiry_burns_what_is_left_in_date_order(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 100, expires_in=timedelta(days=10))
    await accrue(db, customer.id, 40, expires_in=timedelta(days=20))
    kept = await accrue(db, customer.id, 25)
    await spend(db, customer.id, 30)  # from the first lot
    wallet_id = kept.wallet.id
    day_15 = utcnow() + timedelta(days=15)
    async with db.unit_of_work() as session:
        service = LedgerService(session, clock=lambda: day_15)
        assert await service.wallet_ids_with_due_lots(10) == [wallet_id]
        burned = await service.expire_lots(wallet_id)
    assert burned is not None
    assert (burned.kind, burned.delta, burned.balance_after) == ("expire", -70, 65)
    day_25 = utcnow() + timedelta(days=25)
    async with db.unit_of_work() as session:
        burned = await LedgerService(session, clock=lambda: day_25).expire_lots(wallet_id)
    assert burned is not None
    assert burned.delta == -40
    async with db.unit_of_work() as session:
        assert await LedgerService(session, clock=lambda: day_25).expire_lots(wallet_id) is None
    wallet = await check_wallet_invariants(db, wallet_id)
    assert wallet.balance == 25


async def test_expiry_keeps_points_reserved_by_a_hold(db):
    customer = await make_customer(db)
    posting = await accrue(db, customer.id, 100, expires_in=timedelta(days=1))
    reserved = await hold(db, customer.id, 60, ttl_minutes=3 * 24 * 60)
    day_2 = utcnow() + timedelta(days=2)
    async with db.unit_of_work() as session:
        burned = await LedgerService(session, clock=lambda: day_2).expire_lots(posting.wallet.id)
    assert burned is not None
    assert burned.delta == -40
    async with db.unit_of_work() as session:
        captured = await LedgerService(session, clock=lambda: day_2).capture(reserved.hold.id)
    assert captured.wallet.balance == 0
    await check_wallet_invariants(db, posting.wallet.id)


async def test_negative_correction_only_where_the_currency_allows(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 30)
    key = IdempotencyKey(f"customer:{customer.id}", "fix-1")
    with pytest.raises(errors.InsufficientFunds):
        async with db.unit_of_work() as session:
            await LedgerService(session).adjust(
                customer.id,
                "POINTS",
                -50,
                reason="Refund clawback",
                actor="staff-1",
                idempotency=key,
            )
    async with db.unit_of_work() as session:
        await session.execute(
            update(Currency).where(Currency.code == "POINTS").values(allow_negative=True)
        )
    async with db.unit_of_work() as session:
        posting = await LedgerService(session).adjust(
            customer.id,
            "POINTS",
            -50,
            reason="Refund clawback",
            actor="staff-1",
            idempotency=key,
        )
    assert (posting.entry.kind, posting.entry.actor, posting.wallet.balance) == (
        EntryKind.ADJUST,
        "staff-1",
        -20,
    )
    covered = await accrue(db, customer.id, 50)  # covers the deficit; only 30 is a new lot
    assert covered.wallet.balance == 30
    await check_wallet_invariants(db, posting.wallet.id)


@pytest.mark.parametrize(
    ("amount", "reason", "error"),
    [
        (0, "Goodwill", errors.ZeroAmount),
        (10, "  x ", errors.ReasonRequired),
        (10, "y" * 501, errors.ReasonRequired),
    ],
)
async def test_adjust_validates_its_input(db, amount, reason, error):
    customer = await make_customer(db)
    with pytest.raises(error):
        async with db.unit_of_work() as session:
            await LedgerService(session).adjust(
                customer.id,
                "POINTS",
                amount,
                reason=reason,
                actor="s",
                idempotency=IdempotencyKey("c", "k"),
            )
    assert await entry_count(db) == 0


async def test_idempotency_key_length_is_checked(db):
    customer = await make_customer(db)
    for key in ("", "k" * 256):
        with pytest.raises(errors.IdempotencyKeyInvalid):
            async with db.unit_of_work() as session:
                await LedgerService(session).accrue(
                    customer.id,
                    "POINTS",
                    5,
                    reason="x",
                    source=SOURCE,
                    idempotency=IdempotencyKey("c", key),
                )


async def test_hold_statuses_are_final(db):
    customer = await make_customer(db)
    await accrue(db, customer.id, 10)
    reserved = await hold(db, customer.id, 10)
    async with db.unit_of_work() as session:
        voided = await LedgerService(session).void(reserved.hold.id)
    assert voided.hold.status == HoldStatus.VOIDED
    assert voided.hold.resolved_at is not None
