"""Every SQL statement about partners, offers and activations."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Table, bindparam, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.driver import driver_reads, driver_select
from bff.kernel.types import Window, utcnow
from bff.partners.models import (
    BoostPeriod,
    CustomerBoost,
    Offer,
    OfferActivation,
    Partner,
    PartnerEvent,
)


class PartnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, *rows: Any) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()

    # partners

    async def partner_by_code(self, code: str) -> Partner | None:
        result = await self.session.scalars(select(Partner).where(Partner.code == code))
        return result.first()

    async def partners_by_ids(self, partner_ids: Sequence[int]) -> Sequence[Partner]:
        result = await self.session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))
        return result.all()

    async def partners_page(self, *, after_id: int | None, limit: int) -> Sequence[Partner]:
        statement = select(Partner).where(Partner.active.is_(True))
        if after_id is not None:
            statement = statement.where(Partner.id > after_id)
        return (await self.session.scalars(statement.order_by(Partner.id).limit(limit))).all()

    # offers

    async def offer(self, offer_id: int) -> Offer | None:
        return await self.session.get(Offer, offer_id)

    async def offers_by_ids(self, offer_ids: Sequence[int]) -> Sequence[Offer]:
        result = await self.session.scalars(select(Offer).where(Offer.id.in_(offer_ids)))
        return result.all()

    async def offers_page(
        self,
        *,
        after_id: int | None,
        limit: int,
        partner_code: str | None,
        category: str | None,
        active_at: datetime | None,
    ) -> Sequence[Offer]:
        """Offers of active partners, by id; ``active_at`` keeps only those open then."""
        statement = (
            select(Offer)
            .join(Partner, Partner.id == Offer.partner_id)
            .where(Partner.active.is_(True))
        )
        if partner_code is not None:
            statement = statement.where(Partner.code == partner_code)
        if category is not None:
            statement = statement.where(Partner.category == category)
        if active_at is not None:
            statement = statement.where(
                Offer.active.is_(True),
                Offer.valid_from <= active_at,
                Offer.valid_to.is_(None) | (Offer.valid_to > active_at),
                Offer.budget.is_(None) | (Offer.budget_spent < Offer.budget),
            )
        if after_id is not None:
            statement = statement.where(Offer.id > after_id)
        return (await self.session.scalars(statement.order_by(Offer.id).limit(limit))).all()

    async def activated_offers_page(
        self, customer_id: int, *, after_id: int | None, limit: int
    ) -> Sequence[Offer]:
        statement = (
            select(Offer)
            .join(OfferActivation, OfferActivation.offer_id == Offer.id)
            .where(OfferActivation.customer_id == customer_id, OfferActivation.active.is_(True))
        )
        if after_id is not None:
            statement = statement.where(Offer.id > after_id)
        return (await self.session.scalars(statement.order_by(Offer.id).limit(limit))).all()

    # activations

    async def activation(self, offer_id: int, customer_id: int) -> OfferActivation | None:
        result = await self.session.scalars(
            select(OfferActivation)
            .where(OfferActivation.offer_id == offer_id, OfferActivation.customer_id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.first()

    async def activations_of(
        self, customer_id: int, offer_ids: Sequence[int]
    ) -> Sequence[OfferActivation]:
        if (driver := await driver_reads(self.session)) is not None:
            return await driver.models(
                OfferActivation, _DRIVER_ACTIVATIONS_OF, customer_id, list(offer_ids)
            )
        result = await self.session.scalars(
            _ACTIVATIONS_OF, {"customer_id": customer_id, "offer_ids": list(offer_ids)}
        )
        return result.all()


# One completion of an unbudgeted offer (the common single event) on PostgreSQL, decided
# in Python from a cached copy of the offer: this statement locks the activation, stores
# the event and counts it, or returns no row. No row unless the copy is current
# (updated_at), the customer activated the offer and is under the limit (checked again
# on the locked row), and no event with this id is stored.
_RECORD_COMPLETION = text("""
WITH claim AS (SELECT pg_advisory_xact_lock(CAST(:claim_key AS bigint)))
, target AS (
    SELECT a.id, a.customer_id
    FROM claim, offer_activations AS a
    JOIN customers AS c ON c.id = a.customer_id
    JOIN offers AS o ON o.id = a.offer_id
    WHERE c.external_id = :customer AND a.offer_id = :offer_id AND a.active
      AND o.partner_id = :partner_id AND o.updated_at = :offer_version AND o.budget IS NULL
      AND (o.per_customer_limit IS NULL OR a.completions < o.per_customer_limit)
    FOR UPDATE OF a
),
stored AS (
    INSERT INTO partner_events (partner_id, event_id, type, payload, status, reason,
        customer_id, offer_id, amount, points, shortfall, occurred_at, received_at)
    SELECT CAST(:partner_id AS bigint), CAST(:event_id AS varchar), CAST(:type AS varchar),
        CAST(:payload AS json), 'accrued', NULL, target.customer_id,
        CAST(:offer_id AS bigint), CAST(:amount AS bigint), CAST(:points AS bigint), 0,
        CAST(:occurred_at AS timestamptz), CAST(:received_at AS timestamptz)
    FROM target
    ON CONFLICT (partner_id, event_id) DO NOTHING
    RETURNING customer_id
)
UPDATE offer_activations AS a SET completions = a.completions + 1
FROM target, stored
WHERE a.id = target.id
RETURNING stored.customer_id
""").bindparams(bindparam("payload", type_=JSON))


class PartnerEventRepository:
    """Statements of the partner events API, shaped for batches of up to 1,000."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_completion(self, offer: Offer, values: dict[str, Any]) -> int | None:
        """PostgreSQL: see _RECORD_COMPLETION. The customer's id, or None."""
        connection = await self.session.connection()
        params = values | {
            "partner_id": offer.partner_id,
            "offer_id": offer.id,
            "offer_version": offer.updated_at,
            # The id is claimed as a batch claims it (claim_event_ids).
            "claim_key": _claim_key(offer.partner_id, values["event_id"]),
        }
        return cast(int | None, (await connection.execute(_RECORD_COMPLETION, params)).scalar())

    async def claim_event_ids(self, partner_id: int, event_ids: Sequence[str]) -> None:
        """Hold the partner's event ids until commit, in one order for everybody: a batch
        that carries an id another batch is handling waits for it, then finds it stored.
        (Their rows cannot be locked before they exist.)"""
        keys = sorted({_claim_key(partner_id, event_id[:128]) for event_id in event_ids})
        if keys:
            await self.session.execute(_CLAIM_IDS, {"keys": keys})

    async def events_page(self, partner_id: int, window: Window) -> list[PartnerEvent]:
        """The partner's stored events, oldest first, after ``window.after_id``."""
        statement = (
            select(PartnerEvent)
            .where(PartnerEvent.partner_id == partner_id, PartnerEvent.id > window.after_id)
            .order_by(PartnerEvent.id)
            .limit(window.limit)
        )
        if window.since is not None:
            statement = statement.where(PartnerEvent.received_at >= window.since)
        if window.until is not None:
            statement = statement.where(PartnerEvent.received_at < window.until)
        return list(await self.session.scalars(statement))

    async def known_events(self, partner_id: int, event_ids: Sequence[str]) -> dict[str, Any]:
        result = await self.session.scalars(
            select(PartnerEvent)
            .where(PartnerEvent.partner_id == partner_id, PartnerEvent.event_id.in_(event_ids))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {event.event_id: event for event in result.all()}

    async def lock_offers(self, offer_ids: Sequence[int]) -> dict[int, Offer]:
        """The offers, with those that have a budget locked in id order (first of all
        locks): their budget is then counted in memory and written once. Offers without
        a budget are not locked, so events for one popular offer run side by side."""
        wanted = sorted(set(offer_ids))
        if not wanted:
            return {}
        offers = {
            offer.id: offer
            for offer in (
                await self.session.scalars(select(Offer).where(Offer.id.in_(wanted)))
            ).all()
        }
        budgeted = sorted(pk for pk, offer in offers.items() if offer.budget is not None)
        if budgeted:
            locked = await self.session.scalars(
                select(Offer)
                .where(Offer.id.in_(budgeted))
                .order_by(Offer.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            offers.update({offer.id: offer for offer in locked.all()})
        return offers

    async def lock_activations(
        self, pairs: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], OfferActivation]:
        """Activations for (offer, customer) pairs, locked in id order (no deadlocks)."""
        if not pairs:
            return {}
        offer_ids = sorted({offer for offer, _ in pairs})
        customer_ids = sorted({customer for _, customer in pairs})
        result = await self.session.scalars(
            select(OfferActivation)
            .where(
                OfferActivation.offer_id.in_(offer_ids),
                OfferActivation.customer_id.in_(customer_ids),
            )
            .order_by(OfferActivation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        wanted = set(pairs)
        return {
            (row.offer_id, row.customer_id): row
            for row in result.all()
            if (row.offer_id, row.customer_id) in wanted
        }

    async def add_budget_spent(self, spent: dict[int, int]) -> None:
        changes = [
            {"offer": offer_id, "points": points} for offer_id, points in spent.items() if points
        ]
        if changes:
            connection = await self.session.connection()
            table = cast(Table, Offer.__table__)
            await connection.execute(
                update(table)
                .where(table.c.id == bindparam("offer"))
                .values(budget_spent=table.c.budget_spent + bindparam("points")),
                changes,
            )

    async def add_completions(self, counts: dict[int, int]) -> None:
        """Count completions on activations (by id), one statement for the batch."""
        changes = [{"activation": pk, "n": n} for pk, n in counts.items() if n]
        if changes:
            connection = await self.session.connection()
            table = cast(Table, OfferActivation.__table__)
            await connection.execute(
                update(table)
                .where(table.c.id == bindparam("activation"))
                .values(completions=table.c.completions + bindparam("n")),
                changes,
            )

    async def add_events(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            connection = await self.session.connection()
            await connection.execute(insert(cast(Table, PartnerEvent.__table__)), list(rows))


# Read on every signed-in home screen: built once (see the ledger's repository).
_ACTIVATIONS_OF = select(OfferActivation).where(
    OfferActivation.customer_id == bindparam("customer_id"),
    OfferActivation.offer_id.in_(bindparam("offer_ids", expanding=True)),
)
# Its twin on the driver (bff.kernel.driver; tests/test_driver_reads.py).
_DRIVER_ACTIVATIONS_OF = driver_select(
    OfferActivation, "customer_id = $1 AND offer_id = ANY($2::bigint[])"
)


# Advisory locks in the order given (the subquery's), so that two batches never wait on
# each other in a cycle.
_CLAIM_IDS = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM "
    "(SELECT key FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS k(key, n) ORDER BY n) s"
)


def _claim_key(partner_id: int, event_id: str) -> int:
    """A stable 64-bit key for (partner, event id); a rare collision only makes two
    batches take turns."""
    digest = hashlib.blake2b(f"{partner_id}:{event_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class BoostRepository:
    """Customers' partner products and the periods their boosts were active."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_boost(
        self, customer_id: int, offer_id: int, boost_bp: int, at: datetime
    ) -> tuple[CustomerBoost, bool]:
        """The customer's boost of the offer, locked, and whether this call created it
        (never started, its event time ``at``)."""
        created = await self.session.scalar(
            pg_insert(CustomerBoost)
            .values(
                customer_id=customer_id,
                offer_id=offer_id,
                boost_bp=boost_bp,
                event_at=at,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["customer_id", "offer_id"])
            .returning(CustomerBoost.id)
        )
        result = await self.session.scalars(
            select(CustomerBoost)
            .where(CustomerBoost.customer_id == customer_id, CustomerBoost.offer_id == offer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.one(), created is not None

    async def save(self, boost: CustomerBoost) -> None:
        self.session.add(boost)
        await self.session.flush()

    async def open_period(self, period: BoostPeriod) -> None:
        self.session.add(period)
        await self.session.flush()

    async def close_period(self, boost_id: int, at: datetime) -> None:
        """End the boost's open period at ``at`` (a timed one may have ended already)."""
        await self.session.execute(
            update(BoostPeriod)
            .where(
                BoostPeriod.boost_id == boost_id,
                BoostPeriod.started_at <= at,
                or_(BoostPeriod.ended_at.is_(None), BoostPeriod.ended_at > at),
            )
            .values(ended_at=at)
        )

    async def periods_at(self, customer_id: int, at: datetime) -> list[tuple[int, int, Any]]:
        """(offer id, basis points, end) of the boosts active at ``at``."""
        if (driver := await driver_reads(self.session)) is not None:
            rows = await driver.fetch(_DRIVER_PERIODS_AT, customer_id, at)
            return [(offer_id, bp, ended) for offer_id, bp, ended in rows]
        result = await self.session.execute(
            select(CustomerBoost.offer_id, BoostPeriod.boost_bp, BoostPeriod.ended_at)
            .join(CustomerBoost, CustomerBoost.id == BoostPeriod.boost_id)
            .where(
                BoostPeriod.customer_id == customer_id,
                BoostPeriod.started_at <= at,
                or_(BoostPeriod.ended_at.is_(None), BoostPeriod.ended_at > at),
            )
            .order_by(CustomerBoost.offer_id)
        )
        return [(offer_id, bp, ended) for offer_id, bp, ended in result.all()]

    async def boost_offers(self, now: datetime, limit: int) -> Sequence[Offer]:
        """Open offers whose product boosts the percentage, the largest boost first."""
        result = await self.session.scalars(
            select(Offer)
            .where(
                Offer.boost_bp.is_not(None),
                Offer.active.is_(True),
                Offer.valid_from <= now,
                or_(Offer.valid_to.is_(None), Offer.valid_to > now),
            )
            .order_by(Offer.boost_bp.desc(), Offer.id)
            .limit(limit)
        )
        return result.all()

    async def end_expired(self, now: datetime, limit: int) -> list[int]:
        """Timed boosts past their end, marked ended (their periods ended already): the
        customers they were of."""
        due = (
            select(CustomerBoost.id)
            .where(CustomerBoost.ended_at.is_(None), CustomerBoost.ends_at <= now)
            .order_by(CustomerBoost.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self.session.execute(
            update(CustomerBoost)
            .where(CustomerBoost.id.in_(due))
            .values(ended_at=CustomerBoost.ends_at, updated_at=now)
            .returning(CustomerBoost.customer_id)
        )
        return [customer_id for (customer_id,) in result.all()]


# The tills' quote and the cashback screens read it: its twin on the driver.
_DRIVER_PERIODS_AT = (
    "SELECT b.offer_id, p.boost_bp, p.ended_at FROM boost_periods AS p "
    "JOIN customer_boosts AS b ON b.id = p.boost_id "
    "WHERE p.customer_id = $1 AND p.started_at <= $2 AND (p.ended_at IS NULL OR p.ended_at > $2) "
    "ORDER BY b.offer_id"
)
