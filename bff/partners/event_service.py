"""Partner events: completions accrue points for activated offers; reversals take them
back. Every event is stored with its outcome, so partners can reconcile.

A batch is one transaction. Offers, customers and activations are read once per batch;
activations are locked in id order and budgets are taken with a conditional UPDATE, so
concurrent requests can neither deadlock nor overrun a budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.models import Customer
from bff.graphql.ids import decode_typed_id
from bff.ledger.service import LedgerService, Source
from bff.partners.events import COMPLETED, Invalid, PartnerEventIn
from bff.partners.models import EventStatus, Offer, Partner, PartnerEvent, RewardKind
from bff.partners.repository import PartnerEventRepository
from bff.partners.service import availability
from bff.types import utcnow

BASIS_POINTS_PER_POINT_OF_KOPECKS = 1_000_000  # amount (kopecks) * bp / this = points


@dataclass(frozen=True)
class EventResult:
    id: str | None
    status: str  # accrued | applied | rejected | duplicate
    code: str | None = None
    field: str | None = None
    points: int = 0

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status, "points": self.points}
        if self.code:
            body["code"] = self.code
        if self.field:
            body["field"] = self.field
        return body


def reward_points(offer: Offer, amount: int | None) -> int | None:
    """Points one completion earns; None when a percentage offer got no amount."""
    if offer.reward_kind == RewardKind.FIXED:
        return offer.reward_points or 0
    if amount is None:
        return None
    points = amount * (offer.reward_percent_bp or 0) // BASIS_POINTS_PER_POINT_OF_KOPECKS
    return min(points, offer.reward_cap) if offer.reward_cap is not None else points


class PartnerEventService:
    def __init__(
        self, session: AsyncSession, partner: Partner, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.session = session
        self.partner = partner
        self.clock = clock
        self.repository = PartnerEventRepository(session)
        self.ledger = LedgerService(session, clock=clock)
        self._stored: list[PartnerEvent] = []
        self._in_batch: dict[str, PartnerEvent] = {}

    async def ingest(self, events: Sequence[PartnerEventIn | Invalid]) -> list[EventResult]:
        ids = [e.id for e in events if e.id is not None]
        ids += [e.refers_to for e in events if isinstance(e, PartnerEventIn) and e.refers_to]
        known = await self.repository.known_events(self.partner.id, ids)
        offers = await self.repository.offers(self.partner.id, self._offer_ids(events))
        customers = await self._customers(events)
        pairs = [
            (offer_id, customers[e.customer_id].id)
            for e in events
            if isinstance(e, PartnerEventIn)
            and e.customer_id in customers
            and (offer_id := _offer_pk(e)) in offers
        ]
        self.activations = await self.repository.lock_activations(pairs)
        await self._lock_wallets(pairs, offers, known)
        self.enabled = {c.code for c in await self.ledger.repository.currencies() if c.enabled}
        results, seen = [], set()
        for event in events:
            if event.id is not None and (event.id in known or event.id in seen):
                earlier = known.get(event.id)
                results.append(
                    EventResult(event.id, "duplicate", earlier.reason if earlier else None)
                )
                continue
            if event.id is not None:
                seen.add(event.id)
            results.append(await self._one(event, offers, customers, known))
        await self.repository.add_events(self._stored)
        return results

    async def _one(
        self,
        event: PartnerEventIn | Invalid,
        offers: dict[int, Offer],
        customers: dict[str, Customer],
        known: dict[str, PartnerEvent],
    ) -> EventResult:
        if isinstance(event, Invalid):
            self._store(event.id or "", "invalid", event.raw, EventStatus.REJECTED, "MALFORMED")
            return EventResult(event.id, "rejected", "MALFORMED", event.error.field)
        if event.type == COMPLETED:
            return await self._complete(event, offers, customers)
        return await self._reverse(event, known)

    async def _complete(
        self, event: PartnerEventIn, offers: dict[int, Offer], customers: dict[str, Customer]
    ) -> EventResult:
        offer = offers.get(_offer_pk(event) or 0)
        customer = customers.get(event.customer_id or "")
        code, points = self._refusal(event, offer, customer)
        if code is None:
            assert offer is not None
            assert customer is not None
            assert points is not None
            if not await self.repository.take_budget(offer.id, points):
                code = "BUDGET_EXHAUSTED"
        if code is not None:
            self._store(
                event.id,
                event.type,
                event.raw,
                EventStatus.REJECTED,
                code,
                event=event,
                offer=offer,
                customer=customer,
            )
            return EventResult(event.id, "rejected", code)
        assert offer is not None
        assert customer is not None
        assert points is not None
        await self.ledger.accrue(
            customer.id,
            offer.currency,
            points,
            reason=offer.title,
            source=Source("partner_event", f"{self.partner.code}:{event.id}"),
        )
        self.activations[(offer.id, customer.id)].completions += 1
        self._store(
            event.id,
            event.type,
            event.raw,
            EventStatus.ACCRUED,
            None,
            event=event,
            offer=offer,
            customer=customer,
            points=points,
        )
        return EventResult(event.id, "accrued", points=points)

    def _refusal(
        self, event: PartnerEventIn, offer: Offer | None, customer: Customer | None
    ) -> tuple[str | None, int | None]:
        if offer is None:
            return "UNKNOWN_OFFER", None
        if offer.currency not in self.enabled:
            return "OFFER_INACTIVE", None
        activation = self.activations.get((offer.id, customer.id)) if customer else None
        if activation is None or not activation.active:
            return "NOT_ACTIVATED", None
        problem = availability(offer, event.occurred_at or self.clock())
        if problem is not None and problem != "OFFER_EXHAUSTED":
            return problem, None
        limit = offer.per_customer_limit
        if limit is not None and activation.completions >= limit:
            return "LIMIT_REACHED", None
        points = reward_points(offer, event.amount)
        if points is None:
            return "AMOUNT_REQUIRED", None
        if points <= 0:
            return "NOTHING_EARNED", None
        return None, points

    async def _reverse(self, event: PartnerEventIn, known: dict[str, PartnerEvent]) -> EventResult:
        refers_to = event.refers_to or ""
        original = (
            known.get(refers_to)
            or self._in_batch.get(refers_to)
            or await self._earlier(event.refers_to)
        )
        code = None
        if original is None or original.type != COMPLETED:
            code = "UNKNOWN_EVENT"
        elif original.status == EventStatus.REVERSED:
            code = "ALREADY_REVERSED"
        elif original.status != EventStatus.ACCRUED:
            code = "NOT_ACCRUED"
        if code is not None:
            self._store(event.id, event.type, event.raw, EventStatus.REJECTED, code, event=event)
            return EventResult(event.id, "rejected", code)
        assert original is not None
        assert original.customer_id is not None
        offer = await self.session.get(Offer, original.offer_id)
        assert offer is not None
        _, shortfall = await self.ledger.reverse(
            original.customer_id,
            offer.currency,
            original.points,
            reason=f"Reversed: {offer.title}",
            source=Source("partner_event", f"{self.partner.code}:{event.id}"),
        )
        await self.repository.return_budget(offer.id, original.points)
        original.status = EventStatus.REVERSED
        self._store(
            event.id,
            event.type,
            event.raw,
            EventStatus.APPLIED,
            None,
            event=event,
            points=original.points - shortfall,
            shortfall=shortfall,
        )
        return EventResult(event.id, "applied", points=original.points - shortfall)

    async def _lock_wallets(
        self,
        pairs: list[tuple[int, int]],
        offers: dict[int, Offer],
        known: dict[str, PartnerEvent],
    ) -> None:
        """Every wallet the batch may post to, locked after the activations, in id order."""
        by_currency: dict[str, set[int]] = {}
        for offer_id, customer_id in pairs:
            by_currency.setdefault(offers[offer_id].currency, set()).add(customer_id)
        for earlier in known.values():
            if earlier.customer_id is not None and earlier.offer_id is not None:
                offer = offers.get(earlier.offer_id) or await self.session.get(
                    Offer, earlier.offer_id
                )
                if offer is not None:
                    by_currency.setdefault(offer.currency, set()).add(earlier.customer_id)
        for currency in sorted(by_currency):
            await self.ledger.repository.lock_wallets(sorted(by_currency[currency]), currency)

    async def _earlier(self, event_id: str | None) -> PartnerEvent | None:
        if event_id is None:
            return None
        found = await self.repository.known_events(self.partner.id, [event_id])
        return found.get(event_id)

    async def _customers(self, events: Sequence[PartnerEventIn | Invalid]) -> dict[str, Customer]:
        subjects = {
            e.customer_id for e in events if isinstance(e, PartnerEventIn) and e.customer_id
        }
        if not subjects:
            return {}
        rows = await self.session.scalars(
            select(Customer).where(Customer.external_id.in_(subjects))
        )
        return {customer.external_id: customer for customer in rows.all()}

    @staticmethod
    def _offer_ids(events: Sequence[PartnerEventIn | Invalid]) -> list[int]:
        return [
            pk for e in events if isinstance(e, PartnerEventIn) and (pk := _offer_pk(e)) is not None
        ]

    def _store(
        self,
        event_id: str,
        event_type: str,
        raw: Any,
        status: str,
        reason: str | None,
        *,
        event: PartnerEventIn | None = None,
        offer: Offer | None = None,
        customer: Customer | None = None,
        points: int = 0,
        shortfall: int = 0,
    ) -> None:
        row = PartnerEvent(
            partner_id=self.partner.id,
            event_id=event_id[:128],
            type=event_type[:32],
            payload=raw if isinstance(raw, dict) else {"value": raw},
            status=status,
            reason=reason,
            customer_id=customer.id if customer else None,
            offer_id=offer.id if offer else None,
            amount=event.amount if event else None,
            points=points,
            shortfall=shortfall,
            refers_to=event.refers_to if event else None,
            occurred_at=event.occurred_at if event else None,
            received_at=self.clock(),
        )
        self._stored.append(row)
        self._in_batch[row.event_id] = row


def _offer_pk(event: PartnerEventIn) -> int | None:
    return decode_typed_id(event.offer_id, "Offer") if event.offer_id else None
