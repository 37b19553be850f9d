"""A history reads in its reader's language: the entries the service makes keep a reason
code and its parameters; a staff member's correction keeps their own words."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bff.kernel.auth import Role
from bff.kernel.types import utcnow
from bff.ledger.models import LedgerEntry
from bff.ledger.reasons import Reason, entry_reason
from bff.ledger.service import LedgerService, Source
from bff.worker import JobReport, expire_holds, expire_lots
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import gql, token

HISTORY = "{ me { history(first: 10) { edges { node { kind reason } } } } }"
ADJUST = """mutation ($input: BalanceAdjustInput!) { balanceAdjust(input: $input) {
  userErrors { code } } }"""


async def test_the_history_speaks_the_readers_language(app_client, settings, db):
    customer = await make_customer(db, "anna")
    past = utcnow() - timedelta(days=40)
    await accrue(db, customer.id, 70, expires_in=timedelta(days=30), clock=past)
    await accrue(db, customer.id, 30)
    async with db.unit_of_work() as session:
        await LedgerService(session, clock=lambda: past).hold(
            customer.id, "POINTS", 20, reason="x", source=Source("t"), ttl=timedelta(minutes=1)
        )
    report = JobReport()
    await expire_holds(db, 100, report)
    await expire_lots(db, 100, report)
    adjust = {
        "customerId": (await gql(app_client, "{ me { id } }", bearer=token(settings, "anna")))[
            "data"
        ]["me"]["id"],
        "currency": "POINTS",
        "amount": 5,
        "reason": "Goodwill for a late order",
        "idempotencyKey": "k-1",
    }
    staff = token(settings, "olga", Role.SUPPORT)
    assert (await gql(app_client, ADJUST, {"input": adjust}, bearer=staff))["data"][
        "balanceAdjust"
    ]["userErrors"] == []

    def reasons(body):
        return {
            e["node"]["kind"]: e["node"]["reason"] for e in body["data"]["me"]["history"]["edges"]
        }

    anna = token(settings, "anna")
    english = reasons(await gql(app_client, HISTORY, bearer=anna))
    russian = reasons(
        await gql(app_client, HISTORY, bearer=anna, headers={"accept-language": "ru"})
    )
    assert (english["EXPIRE"], russian["EXPIRE"]) == ("Points expired", "Баллы сгорели")
    assert (english["RELEASE"], russian["RELEASE"]) == ("Hold expired", "Резерв истёк")
    # A staff member's words are kept as written, in any language.
    assert english["ADJUST"] == russian["ADJUST"] == "Goodwill for a late order"


async def test_a_reversal_keeps_its_code_and_says_what_it_took_back(db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 50, reason="Open a card")
    reversed_offer = Reason("LEDGER_OFFER_REVERSED", {"offer": "Open a card"})
    async with db.unit_of_work() as session:
        await LedgerService(session).reverse(
            customer.id, "POINTS", 50, reason=reversed_offer, source=Source("t")
        )
    async with db.read() as session:
        entry = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reverse"))
        ).one()
    assert entry.reason == "Reversed: Open a card"  # the English text, for staff and exports
    assert entry_reason(entry, "ru") == "Отмена начисления: Open a card"
