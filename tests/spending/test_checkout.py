"""Paying part of an order with points: a checkout hold (at most what the rule allows),
captured by the order's completion (which earns on the money part only), given back in
proportion when the order is refunded, wholly when it is cancelled."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bff.kernel.auth import Role
from bff.ledger.models import Hold, Wallet
from tests.fixtures.earning import (
    cancelled,
    completed,
    make_rule,
    percent_rule,
    refunded,
    send,
)
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, token
from tests.ledger.invariants import check_wallet_invariants
from tests.spending.test_quote import quote
from tests.spending.test_spending import SET

HOLDS = "/api/checkout/holds"


async def pay(client, points: int, key: str = "k-1", order_id: str = "A-1", amount: int = 100_000):
    payload = {
        "customer_id": "anna",
        "brand": "grocery",
        "order": {"id": order_id, "amount": amount},
        "points": points,
        "idempotency_key": key,
    }
    return await send(client, payload, path=HOLDS)


async def points_wallet(db, customer_id: int) -> Wallet:
    async with db.read() as session:
        wallet_id = await session.scalar(
            select(Wallet.id).where(Wallet.customer_id == customer_id, Wallet.currency == "POINTS")
        )
    return await check_wallet_invariants(db, wallet_id)


async def setup(app_client, settings, db, balance: int = 1_000) -> int:
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, balance)
    await make_rule(db, "cashback", **percent_rule(level_bonus=False))  # 3 % in points
    rule = {"currency": "POINTS", "kopecksPerPoint": 100, "maxShareBasisPoints": 3000}
    await gql(app_client, SET, {"input": rule}, bearer=token(settings, "olga", Role.ADMIN))
    return customer.id


def completed_with(points_hold_id: int, amount: int = 100_000) -> dict:
    event = completed("evt-1", "A-1", amount)
    event["order"]["points_hold_id"] = points_hold_id
    return event


async def test_points_pay_part_of_an_order_which_earns_on_the_rest(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    over = await pay(app_client, 301)  # 30 % of 1,000 rubles is 300 points
    assert (over.status_code, over.json()["error"]["code"]) == (422, "OVER_SPENDABLE")
    held = await pay(app_client, 300)
    assert held.status_code == 201, held.text
    hold = held.json()
    assert (hold["points"], hold["value"], hold["replayed"]) == (300, 30_000, False)
    again = await pay(app_client, 300)
    assert (again.status_code, again.json()["hold_id"]) == (200, hold["hold_id"])
    assert (await points_wallet(db, customer_id)).held == 300

    done = await send(app_client, completed_with(hold["hold_id"]))
    assert done.status_code == 200, done.text
    # 3 % of the 700 rubles paid in money, not of 1,000.
    assert [a["amount"] for a in done.json()["accruals"]] == [21]
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (700, 0)

    # Refunded 400 of 1,000 rubles: 40 % of the points come back (and of what it earned).
    back = await send(app_client, refunded("evt-2", "A-1", 40_000))
    assert back.status_code == 200, back.text
    assert (await points_wallet(db, customer_id)).balance == 820
    # Then cancelled: the rest of the points come back.
    await send(app_client, cancelled("evt-3", "A-1"))
    assert (await points_wallet(db, customer_id)).balance == 1_000
    async with db.read() as session:
        final = await session.get(Hold, hold["hold_id"])
    assert (final.captured_amount, final.refunded_amount) == (300, 300)


async def test_a_hold_captures_only_its_own_order(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    hold = (await pay(app_client, 100, order_id="A-9")).json()
    wrong = await send(app_client, completed_with(hold["hold_id"]))  # order A-1, not A-9
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "PAYMENT_NOT_FOR_ORDER")
    unknown = await send(app_client, completed_with(10**12))
    assert unknown.json()["error"]["code"] == "PAYMENT_NOT_FOR_ORDER"
    malformed = await send(app_client, completed_with(-1))
    assert (malformed.status_code, malformed.json()["error"]["field"]) == (
        400,
        "order.points_hold_id",
    )
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (1_000, 100)  # nothing captured, nothing lost


async def test_two_checkouts_racing_for_one_wallet(app_client, settings, db):
    customer_id = await setup(app_client, settings, db, balance=300)
    answers = await asyncio.gather(
        *(pay(app_client, 200, key=f"k-{n}", order_id=f"A-{n}") for n in range(4))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 422, 422, 422], [a.text for a in answers]
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (300, 200)


async def test_the_quote_and_the_hold_agree(app_client, settings, db):
    await setup(app_client, settings, db, balance=120)
    body = {
        "customer_id": "anna",
        "brand": "grocery",
        "order": {"id": "A-1", "amount": 100_000},
    }
    allowed = (await quote(app_client, body)).json()["spendable"]["points"]
    assert allowed == 120
    assert (await pay(app_client, allowed + 1)).json()["error"]["code"] == "OVER_SPENDABLE"
    assert (await pay(app_client, allowed)).status_code == 201


async def test_a_till_captures_part_and_the_completion_earns_on_the_rest(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    hold = (await pay(app_client, 300)).json()
    too_much = await send(app_client, {"points": 301}, path=f"{HOLDS}/{hold['hold_id']}/capture")
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (
        422,
        "CAPTURE_EXCEEDS_HOLD",
    )
    taken = await send(app_client, {"points": 200}, path=f"{HOLDS}/{hold['hold_id']}/capture")
    assert taken.status_code == 200, taken.text
    answer = taken.json()
    assert (answer["status"], answer["captured_points"], answer["captured_value"]) == (
        "captured",
        200,
        20_000,
    )
    second = await send(app_client, {}, path=f"{HOLDS}/{hold['hold_id']}/capture")
    assert (second.status_code, second.json()["error"]["code"]) == (422, "HOLD_NOT_ACTIVE")
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (800, 0)  # the 100 not taken came back

    done = await send(app_client, completed_with(hold["hold_id"]))
    assert done.status_code == 200, done.text
    # 3 % of the 800 rubles paid in money: the completion found the points already taken.
    assert [a["amount"] for a in done.json()["accruals"]] == [24]
    assert (await points_wallet(db, customer_id)).balance == 800

    await send(app_client, cancelled("evt-3", "A-1"))
    assert (await points_wallet(db, customer_id)).balance == 1_000


async def test_a_void_gives_the_points_back_and_the_hold_cannot_pay_after(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    hold = (await pay(app_client, 250)).json()
    voided = await send(app_client, {}, path=f"{HOLDS}/{hold['hold_id']}/void")
    assert (voided.status_code, voided.json()["status"]) == (200, "voided")
    again = await send(app_client, {}, path=f"{HOLDS}/{hold['hold_id']}/void")
    assert again.json()["error"]["code"] == "HOLD_NOT_ACTIVE"
    late = await send(app_client, completed_with(hold["hold_id"]))
    assert (late.status_code, late.json()["error"]["code"]) == (422, "HOLD_NOT_ACTIVE")
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (1_000, 0)


async def test_capture_and_void_refuse_what_is_not_a_checkout_hold(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    for path, status, code in [
        (f"{HOLDS}/{10**12}/capture", 404, "UNKNOWN_HOLD"),
        (f"{HOLDS}/0/void", 400, "MALFORMED"),
        (f"{HOLDS}/1e3/capture", 400, "MALFORMED"),
        (f"{HOLDS}/{'9' * 30}/void", 400, "MALFORMED"),
    ]:
        answer = await send(app_client, {}, path=path)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), path
    hold = (await pay(app_client, 100)).json()
    for body in [{"points": 0}, {"points": None}, {"points": "5"}, {"points": True}]:
        answer = await send(app_client, body, path=f"{HOLDS}/{hold['hold_id']}/capture")
        assert (answer.status_code, answer.json()["error"]["field"]) == (400, "points")
    forged = await send(app_client, {}, path=f"{HOLDS}/{hold['hold_id']}/void", secret="x" * 32)
    assert forged.status_code == 401
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (1_000, 100)


async def test_a_capture_racing_a_void_resolves_the_hold_once(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    captured = 0
    for round_ in range(6):
        hold_id = (await pay(app_client, 50, key=f"r-{round_}", order_id=f"R-{round_}")).json()[
            "hold_id"
        ]
        answers = await asyncio.gather(
            send(app_client, {}, path=f"{HOLDS}/{hold_id}/capture"),
            send(app_client, {}, path=f"{HOLDS}/{hold_id}/void"),
        )
        assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
        captured += answers[0].status_code == 200
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (1_000 - 50 * captured, 0)


async def test_a_replay_answers_the_first_hold_even_when_nothing_is_left_to_hold(
    app_client, settings, db
):
    customer_id = await setup(app_client, settings, db, balance=300)
    first = await pay(app_client, 300)
    assert first.status_code == 201, first.text
    again = await pay(app_client, 300)  # the wallet has nothing available now
    assert (again.status_code, again.json()["hold_id"]) == (200, first.json()["hold_id"])
    assert again.json()["replayed"] is True
    other = await pay(app_client, 200)  # the same key for another payment
    assert (other.status_code, other.json()["error"]["code"]) == (422, "IDEMPOTENCY_CONFLICT")
    fresh = await pay(app_client, 1, key="k-2", order_id="A-2")
    assert (fresh.status_code, fresh.json()["error"]["code"]) == (422, "OVER_SPENDABLE")
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (300, 300)


async def test_an_order_cancelled_before_it_completes_releases_its_points(app_client, settings, db):
    customer_id = await setup(app_client, settings, db)
    first = (await pay(app_client, 100)).json()
    second = (await pay(app_client, 50, key="k-2")).json()  # the till retried with a new key
    await send(app_client, {}, path=f"{HOLDS}/{second['hold_id']}/void")
    cancel = await send(app_client, cancelled("evt-9", "A-1"))
    assert cancel.status_code == 200, cancel.text
    assert (cancel.json()["status"], cancel.json()["reason"]) == ("applied", "POINTS_RELEASED")
    wallet = await points_wallet(db, customer_id)
    assert (wallet.balance, wallet.held) == (1_000, 0)
    async with db.read() as session:
        assert (await session.get(Hold, first["hold_id"])).status == "voided"
    again = await send(app_client, cancelled("evt-10", "A-1"))
    assert (again.json()["status"], again.json()["reason"]) == ("ignored", "ORDER_CANCELLED")
    unknown = await send(app_client, cancelled("evt-11", "never-held"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "ORDER_NOT_FOUND")
    late = await send(app_client, completed_with(first["hold_id"]))
    assert late.json()["error"]["code"] == "HOLD_NOT_ACTIVE"  # nothing is paid twice
    assert (await points_wallet(db, customer_id)).balance == 1_000
