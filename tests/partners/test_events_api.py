"""`POST /api/partners/{code}/events`: signatures, replays, batches, rewards, budgets."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bff.kernel.errors import MalformedInput
from bff.kernel.types import utcnow
from bff.ledger.models import Wallet
from bff.ledger.service import LedgerService, Source
from bff.partners.adapters import rubles_to_kopecks
from bff.partners.directory import PartnerDirectory
from bff.partners.models import Offer, OfferActivation, Partner, PartnerEvent, RewardKind
from tests.conftest import counting_statements
from tests.fixtures.partners import (
    PARTNER_SECRET,
    activate,
    event,
    make_offer,
    make_partner,
    offer_gid,
    post_signed,
)

EVENTS = "/api/partners/bank/events"


@pytest.fixture
async def setup(app_client, db):
    box = app_client.app.state.secret_box
    partner = await make_partner(db, box)
    offer = await make_offer(db, partner)
    await activate(db, offer, "anna")
    return partner, offer


async def balance(db, subject_id: int = 1) -> int:
    async with db.read() as session:
        total = await session.scalar(select(func.coalesce(func.sum(Wallet.balance), 0)))
    return int(total)


async def stored(db) -> list[tuple[str, str, str | None]]:
    async with db.read() as session:
        rows = (await session.scalars(select(PartnerEvent).order_by(PartnerEvent.id))).all()
    return [(row.event_id, row.status, row.reason) for row in rows]


async def test_a_completed_offer_accrues_once(app_client, db, setup):
    _, offer = setup
    first = await post_signed(app_client, EVENTS, event("ev-1", offer))
    assert first.json() == {"id": "ev-1", "status": "accrued", "points": 100}
    replay = await post_signed(app_client, EVENTS, event("ev-1", offer))
    assert replay.json()["status"] == "duplicate"
    assert await balance(db) == 100
    assert await stored(db) == [("ev-1", "accrued", None)]


@pytest.mark.parametrize(
    ("secret", "skew", "code"),
    [
        ("wrong", 0, "SIGNATURE_INVALID"),
        # Taken from the clock when the test runs: a stamp made at collection time drifts
        # into the window while the suite runs.
        (PARTNER_SECRET, -400, "TIMESTAMP_OUT_OF_WINDOW"),
        (PARTNER_SECRET, 400, "TIMESTAMP_OUT_OF_WINDOW"),
    ],
)
async def test_signature_failures_store_nothing(app_client, db, setup, secret, skew, code):
    _, offer = setup
    stamp = int(time.time()) + skew
    response = await post_signed(
        app_client, EVENTS, event("ev-1", offer), secret=secret, timestamp=stamp
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, code)
    assert await stored(db) == []


async def test_unknown_partner_is_404(app_client, setup):
    _, offer = setup
    response = await post_signed(app_client, "/api/partners/nobody/events", event("e", offer))
    assert response.status_code == 404


async def test_a_batch_gets_a_result_per_event_in_order(app_client, db, setup):
    partner, offer = setup
    percent = await make_offer(
        db,
        partner,
        reward_kind=RewardKind.PERCENT,
        reward_points=None,
        reward_percent_bp=500,
        reward_cap=300,
    )
    await activate(db, percent, "anna")
    not_active = await make_offer(db, partner)
    ended = await make_offer(
        db, partner, valid_to=utcnow() - timedelta(hours=1), valid_from=utcnow() - timedelta(days=3)
    )
    await activate(db, ended, "anna")
    batch = {
        "events": [
            event("b-1", offer),
            event("b-2", percent, amount=250_000),  # 5 % of 2,500 rubles = 125
            event("b-3", percent, amount=10_000_000),  # 5,000 capped at 300
            event("b-4", percent),  # a percentage needs an amount
            event("b-5", not_active),
            event("b-6", ended),
            {**event("b-7", offer), "offer_id": "bm9wZQ"},
            {"id": "b-8", "type": "offer.completed"},
            event("b-1", offer),
            {"id": "b-9", "type": "offer.reversed", "refers_to": "b-2"},
        ]
    }
    response = await post_signed(app_client, EVENTS, batch)
    results = [
        (r["id"], r["status"], r.get("code"), r["points"]) for r in response.json()["results"]
    ]
    assert results == [
        ("b-1", "accrued", None, 100),
        ("b-2", "accrued", None, 125),
        ("b-3", "accrued", None, 300),
        ("b-4", "rejected", "AMOUNT_REQUIRED", 0),
        ("b-5", "rejected", "NOT_ACTIVATED", 0),
        ("b-6", "rejected", "OFFER_EXPIRED", 0),
        ("b-7", "rejected", "UNKNOWN_OFFER", 0),
        ("b-8", "rejected", "MALFORMED", 0),
        ("b-1", "duplicate", None, 0),
        ("b-9", "applied", None, 125),  # reverses b-2 from earlier in the same batch
    ]
    assert response.json()["results"][7]["field"] == "customer_id"
    assert await balance(db) == 400
    assert len(await stored(db)) == 9  # the raw payload of every event, rejected ones too
    unknown = await post_signed(
        app_client, EVENTS, {"id": "b-10", "type": "offer.reversed", "refers_to": "never-sent"}
    )
    assert unknown.json()["code"] == "UNKNOWN_EVENT"


async def test_reversal_after_spend_records_the_shortfall(app_client, db, setup):
    _, offer = setup
    await post_signed(app_client, EVENTS, event("ev-1", offer))
    async with db.unit_of_work() as session:
        await LedgerService(session).spend(1, "POINTS", 70, reason="Gift", source=Source("t"))
    reversal = {"id": "ev-2", "type": "offer.reversed", "refers_to": "ev-1"}
    response = await post_signed(app_client, EVENTS, reversal)
    assert response.json() == {"id": "ev-2", "status": "applied", "points": 30}
    again = await post_signed(app_client, EVENTS, {**reversal, "id": "ev-3"})
    assert again.json()["code"] == "ALREADY_REVERSED"
    async with db.read() as session:
        row = (
            await session.scalars(select(PartnerEvent).where(PartnerEvent.event_id == "ev-2"))
        ).one()
        spent = (await session.scalars(select(Offer.budget_spent))).one()
    assert (row.points, row.shortfall, spent) == (30, 70, 0)
    assert await balance(db) == 0


async def test_per_customer_limit(app_client, db, setup):
    partner, _ = setup
    once = await make_offer(db, partner, per_customer_limit=1)
    await activate(db, once, "anna")
    await post_signed(app_client, EVENTS, event("l-1", once))
    second = await post_signed(app_client, EVENTS, event("l-2", once))
    assert second.json()["code"] == "LIMIT_REACHED"


async def test_a_plain_single_completion_is_two_statements(app_client, db, setup):
    _, offer = setup
    await post_signed(app_client, EVENTS, event("fast-0", offer))  # partner cached, wallet made
    with counting_statements(app_client.app) as counter:
        response = await post_signed(app_client, EVENTS, event("fast-1", offer))
    assert response.json() == {"id": "fast-1", "status": "accrued", "points": 100}
    assert counter.count == 2, counter.statements  # lock, store and count; post
    assert await stored(db) == [("fast-0", "accrued", None), ("fast-1", "accrued", None)]
    async with db.read() as session:
        completions = await session.scalar(select(OfferActivation.completions))
    assert (completions, await balance(db)) == (2, 200)


async def test_an_offer_changed_by_another_process_is_honoured_at_once(app_client, db, setup):
    _, offer = setup
    await post_signed(app_client, EVENTS, event("c-1", offer))  # this process caches the offer
    async with db.unit_of_work() as session:  # as another process's staff edit would
        await session.execute(
            update(Offer).where(Offer.id == offer.id).values(active=False, updated_at=utcnow())
        )
    response = await post_signed(app_client, EVENTS, event("c-2", offer))
    assert response.json()["code"] == "OFFER_INACTIVE"
    assert await balance(db) == 100
    assert await stored(db) == [("c-1", "accrued", None), ("c-2", "rejected", "OFFER_INACTIVE")]


async def test_single_events_that_are_not_plain_get_their_exact_code(app_client, db, setup):
    partner, offer = setup
    budgeted = await make_offer(db, partner, budget=150)
    await activate(db, budgeted, "anna")
    answers = [
        await post_signed(app_client, EVENTS, body)
        for body in (
            event("s-1", offer, customer="bob"),
            event("s-2", budgeted),
            event("s-3", budgeted),
            event("s-2", offer),
        )
    ]
    assert [(a.json()["status"], a.json().get("code")) for a in answers] == [
        ("rejected", "NOT_ACTIVATED"),
        ("accrued", None),
        ("rejected", "BUDGET_EXHAUSTED"),
        ("duplicate", None),
    ]
    assert await balance(db) == 100


async def test_the_same_event_sent_at_once_accrues_once(app_client, db, setup):
    _, offer = setup
    responses = await asyncio.gather(
        *(post_signed(app_client, EVENTS, event("twin", offer)) for _ in range(12))
    )
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["accrued"] + ["duplicate"] * 11
    assert await balance(db) == 100
    assert await stored(db) == [("twin", "accrued", None)]


async def test_the_per_customer_limit_holds_under_concurrent_events(app_client, db, setup):
    partner, _ = setup
    offer = await make_offer(db, partner, per_customer_limit=3)
    await activate(db, offer, "anna")
    responses = await asyncio.gather(
        *(post_signed(app_client, EVENTS, event(f"p-{n}", offer)) for n in range(15))
    )
    codes = sorted(str(r.json().get("code")) for r in responses)
    assert codes == ["LIMIT_REACHED"] * 12 + ["None"] * 3
    assert await balance(db) == 300
    async with db.read() as session:
        completions = await session.scalar(
            select(OfferActivation.completions).where(OfferActivation.offer_id == offer.id)
        )
    assert completions == 3


async def test_the_per_customer_limit_counts_events_earlier_in_the_batch(app_client, db, setup):
    partner, _ = setup
    twice = await make_offer(db, partner, per_customer_limit=2)
    await activate(db, twice, "anna")
    body = {"events": [event(f"b-{n}", twice) for n in range(3)]}
    response = await post_signed(app_client, EVENTS, body)
    assert [r.get("code") for r in response.json()["results"]] == [None, None, "LIMIT_REACHED"]
    async with db.read() as session:
        completions = await session.scalar(
            select(OfferActivation.completions).where(OfferActivation.offer_id == twice.id)
        )
    assert (completions, await balance(db)) == (2, 200)


async def test_budget_is_never_overrun_under_concurrent_events(app_client, db, setup):
    partner, _ = setup
    offer = await make_offer(db, partner, budget=1_000)  # ten completions of 100
    for number in range(30):
        await activate(db, offer, f"c-{number}")
    responses = await asyncio.gather(
        *(
            post_signed(app_client, EVENTS, event(f"x-{n}", offer, customer=f"c-{n}"))
            for n in range(30)
        )
    )
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("accrued") == 10
    assert [r.json()["code"] for r in responses if r.json()["status"] == "rejected"] == [
        "BUDGET_EXHAUSTED"
    ] * 20
    async with db.read() as session:
        spent = await session.scalar(select(Offer.budget_spent).where(Offer.id == offer.id))
    assert spent == 1_000
    assert await balance(db) == 1_000


async def test_an_adapter_reads_the_partners_own_format(app_client, db):
    box = app_client.app.state.secret_box
    insurer = await make_partner(db, box, "insurer", adapter="insurer-v1")
    offer = await make_offer(
        db, insurer, reward_kind=RewardKind.PERCENT, reward_points=None, reward_percent_bp=1000
    )
    await activate(db, offer, "anna")

    paid = {
        "txn": "T-1",
        "kind": "POLICY_PAID",
        "client": "anna",
        "promo": offer_gid(offer),
        "sum": "1500.50",
        "ts": utcnow().isoformat(),
    }
    path = "/api/partners/insurer/events"
    assert (await post_signed(app_client, path, paid)).json()["points"] == 150
    bad = await post_signed(app_client, path, {**paid, "txn": "T-9", "sum": "12.345"})
    assert (bad.json()["code"], bad.json()["field"]) == ("MALFORMED", "sum")
    cancelled = {"txn": "T-2", "kind": "POLICY_CANCELLED", "original_txn": "T-1"}
    assert (await post_signed(app_client, path, cancelled)).json()["status"] == "applied"
    assert await balance(db) == 0


@pytest.mark.parametrize(("value", "kopecks"), [("1500.50", 150050), ("7", 700), ("0.01", 1)])
def test_rubles_to_kopecks(value, kopecks):
    assert rubles_to_kopecks(value) == kopecks


@pytest.mark.parametrize("value", ["1.001", "-5", "0", "abc", "NaN", "Infinity", 15])
def test_bad_money_is_refused(value):
    with pytest.raises(MalformedInput):
        rubles_to_kopecks(value)


async def test_malformed_bodies_and_oversized_batches(app_client, db, setup):
    _, offer = setup
    not_json = await post_signed(app_client, EVENTS, b"{nope")
    assert (not_json.status_code, not_json.json()["error"]["field"]) == (400, "body")
    too_many = await post_signed(
        app_client, EVENTS, {"events": [event(f"e{n}", offer) for n in range(1001)]}
    )
    assert (too_many.status_code, too_many.json()["error"]["field"]) == (400, "events")
    assert await stored(db) == []


async def test_a_rotated_secret_stops_working_here_at_once(app_client, db, settings, setup):
    from bff.kernel.auth import Role
    from tests.fixtures.graphql import gql, token

    _, offer = setup
    assert (await post_signed(app_client, EVENTS, event("r-1", offer))).status_code == 200
    rotate = 'mutation { partnerSecretRotate(input: {code: "bank"}) { secret } }'
    body = await gql(app_client, rotate, bearer=token(settings, "boss", Role.ADMIN))
    new_secret = body["data"]["partnerSecretRotate"]["secret"]
    old = await post_signed(app_client, EVENTS, event("r-2", offer))
    assert old.json()["error"]["code"] == "SIGNATURE_INVALID"
    fresh = await post_signed(app_client, EVENTS, event("r-3", offer), secret=new_secret)
    assert fresh.json()["status"] == "accrued"


async def test_the_partner_cache_expires(app_client, db, setup):
    from bff.partners.directory import PartnerDirectory

    directory = PartnerDirectory(db, app_client.app.state.secret_box, ttl=0)
    first = await directory.get("bank")
    async with db.unit_of_work() as session:
        from sqlalchemy import update

        from bff.partners.models import Partner

        await session.execute(update(Partner).values(active=False))
    assert first is not None
    assert await directory.get("bank") is None


async def test_unknown_partner_codes_and_offers_are_never_kept(app_client, db, setup):
    _, offer = setup
    directory = app_client.app.state.partners
    for number in range(300):
        response = await post_signed(app_client, f"/api/partners/nobody-{number}/events", {})
        assert response.json()["error"]["code"] == "UNKNOWN_PARTNER"
        assert await directory.offer(10_000 + number) is None
    assert directory.kept() == (0, 0)
    await post_signed(app_client, EVENTS, event("k-1", offer))  # the fast path keeps its offer
    assert directory.kept() == (1, 1)


async def test_the_partner_cache_drops_the_least_recently_used(app_client, db, monkeypatch):
    monkeypatch.setattr("bff.partners.directory.MAX_CACHED_PARTNERS", 2)
    box = app_client.app.state.secret_box
    for code in ("bank", "telecom", "insurer"):
        await make_partner(db, box, code=code)
    directory = PartnerDirectory(app_client.app.state.db, box)
    for code in ("bank", "telecom", "bank", "insurer"):
        assert (await directory.get(code)) is not None
    assert directory.kept() == (2, 0)
    async with db.unit_of_work() as session:  # were "telecom" still kept, it would be found
        await session.execute(update(Partner).where(Partner.code == "telecom").values(active=False))
    assert await directory.get("telecom") is None
    assert (await directory.get("bank")) is not None  # used last but one: still kept


@pytest.mark.parametrize("occurred_at", ["2999-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00"])
async def test_an_event_dated_outside_any_offer_is_malformed(app_client, db, setup, occurred_at):
    _, offer = setup
    response = await post_signed(app_client, EVENTS, event("d-1", offer, occurred_at=occurred_at))
    body = response.json()
    assert (body["status"], body["code"], body["field"]) == ("rejected", "MALFORMED", "occurred_at")
    assert await balance(db) == 0


async def test_events_without_a_usable_id_are_refused_and_the_rest_of_the_batch_goes_on(
    app_client, db, setup
):
    _, offer = setup
    nameless = [
        {k: v for k, v in event("x", offer).items() if k != "id"},
        {**event("x", offer), "id": ""},
        {**event("x", offer), "id": 17},
        {**event("x", offer), "id": None},
    ]
    for attempt in range(2):  # the same again: nothing was kept under an empty id
        batch = [*nameless, event(f"good-{attempt}", offer)]
        response = await post_signed(app_client, EVENTS, {"events": batch})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [(r["status"], r.get("code"), r.get("field")) for r in results[:4]] == [
            ("rejected", "MALFORMED", "id")
        ] * 4
        assert results[4]["status"] == "accrued"
    assert await stored(db) == [("good-0", "accrued", None), ("good-1", "accrued", None)]
    assert await balance(db) == 200


async def test_concurrent_batches_with_the_same_event_id_accrue_it_once(app_client, db, setup):
    """Both batches answer; the event shared by both is accrued by one and a duplicate in
    the other, and neither loses its other events."""
    _, offer = setup
    for other in ("boris", "vera"):
        await activate(db, offer, other)
    rounds = 8
    for n in range(rounds):
        shared = event(f"shared-{n}", offer)
        # Every other round, the shared event comes alone: a single event's fast path.
        first = shared if n % 2 else {"events": [event(f"a-{n}", offer, customer="boris"), shared]}
        second = {"events": [shared, event(f"b-{n}", offer, customer="vera")]}
        answers = await asyncio.gather(
            post_signed(app_client, EVENTS, first), post_signed(app_client, EVENTS, second)
        )
        assert [answer.status_code for answer in answers] == [200, 200], answers[1].text
        statuses = sorted(
            result["status"]
            for answer in answers
            for result in answer.json().get("results", [answer.json()])
            if result["id"] == f"shared-{n}"
        )
        assert statuses == ["accrued", "duplicate"]
    ids = [event_id for event_id, _, _ in await stored(db)]
    expected = [f"{kind}-{n}" for kind in ("b", "shared") for n in range(rounds)]
    assert sorted(ids) == sorted(expected + [f"a-{n}" for n in range(0, rounds, 2)])
    async with db.read() as session:
        balances = dict((await session.execute(select(Wallet.customer_id, Wallet.balance))).all())
    assert sorted(balances.values()) == sorted([100 * rounds // 2, 100 * rounds, 100 * rounds])
