"""Partner products that raise a customer's cashback percentage.

A partner reports a product's state with ``product.activated`` and ``product.deactivated``
events. Each (customer, offer) keeps the partner's time of the latest event applied: an
older event, arriving late or twice, changes nothing, so events may come in any order. A
boost lasts until its deactivation, or ``boost_days`` after activation; every period it was
active is kept, so an order reported late takes the boosts active when it completed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.texts import localized
from bff.kernel.types import utcnow
from bff.partners.models import BoostPeriod, CustomerBoost, Offer
from bff.partners.repository import BoostRepository, PartnerRepository


class ProductState(enum.StrEnum):
    ACTIVATED = "product.activated"
    DEACTIVATED = "product.deactivated"


class BoostOutcome(enum.StrEnum):
    STARTED = "BOOST_STARTED"
    ENDED = "BOOST_ENDED"
    UNCHANGED = "UNCHANGED"  # already in that state
    OUT_OF_ORDER = "OUT_OF_ORDER"  # older than the event already applied


@dataclass(frozen=True)
class ActiveBoost:
    offer_id: int
    boost_bp: int
    until: datetime | None  # None: until the partner deactivates it


class BoostService:
    def __init__(self, session: AsyncSession, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.repository = BoostRepository(session)
        self.partners = PartnerRepository(session)
        self.clock = clock

    async def report(
        self, offer: Offer, customer_id: int, state: ProductState, at: datetime
    ) -> BoostOutcome:
        """Apply the partner's report that the customer's product changed at ``at``."""
        assert offer.boost_bp is not None
        boost, created = await self.repository.lock_boost(customer_id, offer.id, offer.boost_bp, at)
        if not created and boost.event_at >= at:  # the newest event applied already
            return BoostOutcome.OUT_OF_ORDER
        boost.event_at, boost.updated_at = at, self.clock()
        active = _active(boost, at)
        if state == ProductState.ACTIVATED:
            outcome = BoostOutcome.UNCHANGED if active else await self._start(boost, offer, at)
        else:
            outcome = await self._end(boost, at) if active else BoostOutcome.UNCHANGED
        await self.repository.save(boost)
        return outcome

    async def _start(self, boost: CustomerBoost, offer: Offer, at: datetime) -> BoostOutcome:
        assert offer.boost_bp is not None
        ends = at + timedelta(days=offer.boost_days) if offer.boost_days else None
        boost.boost_bp, boost.started_at, boost.ends_at, boost.ended_at = (
            offer.boost_bp,
            at,
            ends,
            None,
        )
        await self.repository.open_period(
            BoostPeriod(
                boost_id=boost.id,
                customer_id=boost.customer_id,
                boost_bp=boost.boost_bp,
                started_at=at,
                ended_at=ends,
            )
        )
        return BoostOutcome.STARTED

    async def _end(self, boost: CustomerBoost, at: datetime) -> BoostOutcome:
        boost.ended_at = at
        await self.repository.close_period(boost.id, at)
        return BoostOutcome.ENDED

    async def active_at(self, customer_id: int, at: datetime) -> list[ActiveBoost]:
        """The customer's boosts active at ``at`` (now, or when an order completed)."""
        periods = await self.repository.periods_at(customer_id, at)
        return [
            ActiveBoost(offer_id, boost_bp, ended_at) for offer_id, boost_bp, ended_at in periods
        ]

    async def end_expired(self, limit: int) -> list[int]:
        """Mark boosts whose time ran out as ended (the worker's round): whose they were."""
        return await self.repository.end_expired(self.clock(), limit)

    async def product_names(self, offer_ids: Iterable[int], locale: str) -> dict[int, str]:
        """ "Partner: offer" for each offer, in ``locale``: what a boost is called."""
        offers = await self.partners.offers_by_ids(sorted(set(offer_ids)))
        partners = {
            partner.id: partner
            for partner in await self.partners.partners_by_ids(
                sorted({offer.partner_id for offer in offers})
            )
        }
        return {
            offer.id: f"{localized(partners[offer.partner_id], 'name', locale)}: "
            f"{localized(offer, 'title', locale)}"
            for offer in offers
        }

    async def next_boost(self, customer_id: int) -> Offer | None:
        """The open offer whose product would raise the customer's percentage most, among
        those they do not have: the cheapest next step the app can suggest."""
        now = self.clock()
        have = {boost.offer_id for boost in await self.active_at(customer_id, now)}
        for offer in await self.repository.boost_offers(now, len(have) + 1):
            if offer.id not in have:
                return offer
        return None


def _active(boost: CustomerBoost, at: datetime) -> bool:
    if boost.started_at is None or boost.started_at > at or boost.ended_at is not None:
        return False
    return boost.ends_at is None or boost.ends_at > at
