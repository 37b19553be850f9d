"""Partner events: completions accrue points for activated offers; reversals take them
back. Every event is stored with its outcome, so partners can reconcile.

A request (one event or a batch) is one transaction that takes its locks in one order:
offers, then activations, then wallets, each in id order. Concurrent requests therefore
never deadlock, and a budget counted in memory under the offer's lock cannot be overrun.
Accruals are posted together (one statement per currency).

The service keeps no state between calls: what one request reads, locks and collects
lives in its ``_Batch``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.service import CustomerService
from bff.kernel.global_ids import decode_typed_id
from bff.kernel.texts import every_language
from bff.kernel.types import Window, utcnow
from bff.ledger.bulk import Accrual
from bff.ledger.reasons import Reason
from bff.ledger.service import LedgerService, Source
from bff.partners.boosts import BoostOutcome, BoostService, ProductState
from bff.partners.directory import PartnerDirectory
from bff.partners.events import COMPLETED, PRODUCT_EVENTS, Invalid, PartnerEventIn
from bff.partners.models import (
    EventStatus,
    Offer,
    OfferActivation,
    Partner,
    PartnerEvent,
    RewardKind,
)
from bff.partners.repository import PartnerEventRepository
from bff.partners.service import availability

KOPECK_BASIS_POINTS = 1_000_000  # kopecks * basis points / this = points


@dataclass(frozen=True)
class EventResult:
    id: str | None
    status: str  # accrued | applied | ignored | rejected | duplicate
    code: str | None = None
    field: str | None = None
    points: int = 0
    customer_id: int | None = None  # the customer it concerned, for the caller; not sent

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
    points = amount * (offer.reward_percent_bp or 0) // KOPECK_BASIS_POINTS
    return min(points, offer.reward_cap) if offer.reward_cap is not None else points


class TakeGeneralPath(Exception):
    """The single-event fast path does not apply: roll back and take the general one."""


@dataclass
class _Batch:
    """One request's events: what was read and locked up front, and what is collected
    to be written at the end."""

    known: dict[str, PartnerEvent]
    offers: dict[int, Offer]
    customers: dict[str, int]
    activations: dict[tuple[int, int], OfferActivation]
    enabled: frozenset[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    in_batch: dict[str, dict[str, Any]] = field(default_factory=dict)
    accruals: list[Accrual] = field(default_factory=list)
    spent: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    completions: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))


class PartnerEventService:
    def __init__(
        self,
        session: AsyncSession,
        partner: Partner,
        *,
        enabled: frozenset[str] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        # The enabled currencies, when the caller knows them (the partner directory).
        self.enabled = enabled
        self.partner = partner
        self.clock = clock
        self.repository = PartnerEventRepository(session)
        self.ledger = LedgerService(session, clock=clock)

    async def statement(self, window: Window) -> list[PartnerEvent]:
        """What became of the events this partner sent: a page, oldest first."""
        return await self.repository.events_page(self.partner.id, window)

    async def ingest(self, events: Sequence[PartnerEventIn | Invalid]) -> list[EventResult]:
        batch = await self._lock(events)
        results, seen = [], set()
        for event in events:
            if event.id is not None and (event.id in batch.known or event.id in seen):
                earlier = batch.known.get(event.id)
                results.append(
                    EventResult(event.id, "duplicate", earlier.reason if earlier else None)
                )
                continue
            if event.id is not None:
                seen.add(event.id)
            results.append(await self._one(batch, event))
        await self._post_accruals(batch)
        await self.repository.add_budget_spent(batch.spent)
        await self.repository.add_completions(batch.completions)
        await self.repository.add_events(batch.rows)
        return results

    async def complete_alone(
        self, event: PartnerEventIn | Invalid, offers: PartnerDirectory
    ) -> EventResult:
        """One plain completion (new event, offer without a budget, activated,
        under the limit) in two statements instead of about nine, judged on the cached
        offer. Raises TakeGeneralPath for anything else, so that the general path answers
        with its exact code."""
        offer_pk = _offer_pk(event) if isinstance(event, PartnerEventIn) else None
        if (
            not isinstance(event, PartnerEventIn)
            or event.type != COMPLETED
            or offer_pk is None
            or not event.customer_id
            or self.enabled is None
        ):
            raise TakeGeneralPath
        offer = await offers.offer(offer_pk)
        if offer is None or offer.partner_id != self.partner.id or offer.budget is not None:
            raise TakeGeneralPath
        points = reward_points(offer, event.amount)
        when = event.occurred_at or self.clock()
        if offer.currency not in self.enabled or availability(offer, when) or not points:
            raise TakeGeneralPath
        customer_id = await self.repository.record_completion(
            offer,
            {
                "customer": event.customer_id,
                "event_id": event.id[:128],
                "type": event.type,
                "payload": event.raw,
                "amount": event.amount,
                "points": points,
                "occurred_at": event.occurred_at,
                "received_at": self.clock(),
            },
        )
        if customer_id is None:
            raise TakeGeneralPath
        await self.ledger.accrue(
            customer_id,
            offer.currency,
            points,
            reason=Reason("LEDGER_OFFER", {"offer": every_language(offer, "title")}),
            source=Source("partner_event", f"{self.partner.code}:{event.id}"),
        )
        return EventResult(event.id, "accrued", points=points)

    async def _lock(self, events: Sequence[PartnerEventIn | Invalid]) -> _Batch:
        read = [e for e in events if isinstance(e, PartnerEventIn)]
        ids = [e.id for e in events if e.id is not None] + [
            e.refers_to for e in read if e.refers_to
        ]
        await self.repository.claim_event_ids(self.partner.id, [e.id for e in events if e.id])
        known = await self.repository.known_events(self.partner.id, ids)
        offer_ids = [pk for e in read if (pk := _offer_pk(e)) is not None]
        offer_ids += [k.offer_id for k in known.values() if k.offer_id is not None]
        locked = await self.repository.lock_offers(offer_ids)
        offers = {pk: o for pk, o in locked.items() if o.partner_id == self.partner.id}
        subjects = [e.customer_id for e in read if e.customer_id]
        customers = await CustomerService(self.session).ids_of(subjects)
        pairs = [
            (pk, customers[e.customer_id])
            for e in read
            if e.customer_id in customers and (pk := _offer_pk(e)) in offers
        ]
        activations = await self.repository.lock_activations(pairs)
        await self._lock_wallets(pairs, known, offers)
        enabled = self.enabled
        if enabled is None:
            currencies = await self.ledger.currencies()
            enabled = frozenset(c.code for c in currencies if c.enabled)
        return _Batch(known, offers, customers, activations, enabled)

    async def _lock_wallets(
        self,
        pairs: list[tuple[int, int]],
        known: dict[str, PartnerEvent],
        offers: dict[int, Offer],
    ) -> None:
        by_currency: dict[str, set[int]] = defaultdict(set)
        for offer_id, customer_id in pairs:
            by_currency[offers[offer_id].currency].add(customer_id)
        for earlier in known.values():
            offer = offers.get(earlier.offer_id or 0)
            if offer is not None and earlier.customer_id is not None:
                by_currency[offer.currency].add(earlier.customer_id)
        for currency in sorted(by_currency):
            await self.ledger.lock_wallets(sorted(by_currency[currency]), currency)

    async def _one(self, batch: _Batch, event: PartnerEventIn | Invalid) -> EventResult:
        if isinstance(event, Invalid):
            # Without an id of its own there is nothing to store it under (ids are unique
            # per partner) nor to reconcile it by: it is answered, not kept.
            if event.id is not None:
                self._store(
                    batch, event.id, "invalid", event.raw, EventStatus.REJECTED, "MALFORMED"
                )
            return EventResult(event.id, "rejected", "MALFORMED", event.error.field)
        if event.type == COMPLETED:
            return self._complete(batch, event)
        if event.type in PRODUCT_EVENTS:
            return await self._product(batch, event)
        await self._post_accruals(batch)  # a reversal may take back what this batch accrued
        return await self._reverse(batch, event)

    def _complete(self, batch: _Batch, event: PartnerEventIn) -> EventResult:
        offer = batch.offers.get(_offer_pk(event) or 0)
        customer = batch.customers.get(event.customer_id or "")
        code, points = self._refusal(batch, event, offer, customer)
        if code is not None or offer is None or customer is None or points is None:
            self._store_event(batch, event, EventStatus.REJECTED, code, offer, customer)
            return EventResult(event.id, "rejected", code)
        if offer.budget is not None:  # spending is tracked only where a budget caps it
            batch.spent[offer.id] += points
        batch.completions[batch.activations[(offer.id, customer)].id] += 1
        batch.accruals.append(self._accrual(offer, customer, event, points))
        self._store_event(batch, event, EventStatus.ACCRUED, None, offer, customer, points)
        return EventResult(event.id, "accrued", points=points)

    async def _product(self, batch: _Batch, event: PartnerEventIn) -> EventResult:
        """A partner product of the customer changed state: its cashback boost follows."""
        offer = batch.offers.get(_offer_pk(event) or 0)
        customer = batch.customers.get(event.customer_id or "")
        activation = batch.activations.get((offer.id if offer else 0, customer or 0))
        code = None
        if offer is None:
            code = "UNKNOWN_OFFER"
        elif not offer.boost_bp:
            code = "NO_BOOST"
        elif customer is None or activation is None or not activation.active:
            code = "NOT_ACTIVATED"
        if code is not None or offer is None or customer is None:
            self._store_event(batch, event, EventStatus.REJECTED, code, offer, customer)
            return EventResult(event.id, "rejected", code)
        assert event.occurred_at is not None
        outcome = await BoostService(self.session, clock=self.clock).report(
            offer, customer, ProductState(event.type), event.occurred_at
        )
        ignored = outcome == BoostOutcome.OUT_OF_ORDER
        status = EventStatus.IGNORED if ignored else EventStatus.APPLIED
        self._store_event(batch, event, status, outcome.value, offer, customer)
        return EventResult(event.id, status.value, outcome.value, customer_id=customer)

    def _accrual(
        self, offer: Offer, customer_id: int, event: PartnerEventIn, points: int
    ) -> Accrual:
        return Accrual(
            customer_id=customer_id,
            currency=offer.currency,
            amount=points,
            reason=Reason("LEDGER_OFFER", {"offer": every_language(offer, "title")}),
            source_type="partner_event",
            source_id=f"{self.partner.code}:{event.id}",
            expires_at=None,
        )

    def _store_event(
        self,
        batch: _Batch,
        event: PartnerEventIn,
        status: str,
        reason: str | None,
        offer: Offer | None,
        customer_id: int | None,
        points: int = 0,
    ) -> None:
        """Keep a read event with what it concerned and what became of it."""
        self._store(
            batch,
            event.id,
            event.type,
            event.raw,
            status,
            reason,
            event=event,
            offer=offer,
            customer_id=customer_id,
            points=points,
        )

    def _refusal(
        self,
        batch: _Batch,
        event: PartnerEventIn,
        offer: Offer | None,
        customer_id: int | None,
    ) -> tuple[str | None, int | None]:
        if offer is None:
            return "UNKNOWN_OFFER", None
        if offer.currency not in batch.enabled:
            return "OFFER_INACTIVE", None
        activation = batch.activations.get((offer.id, customer_id or 0))
        if activation is None or not activation.active:
            return "NOT_ACTIVATED", None
        problem = availability(offer, event.occurred_at or self.clock())
        if problem is not None and problem != "OFFER_EXHAUSTED":
            return problem, None
        limit = offer.per_customer_limit
        done = activation.completions + batch.completions[activation.id]
        if limit is not None and done >= limit:
            return "LIMIT_REACHED", None
        points = reward_points(offer, event.amount)
        if points is None:
            return "AMOUNT_REQUIRED", None
        if points <= 0:
            return "NOTHING_EARNED", None
        used = offer.budget_spent + batch.spent[offer.id]
        if offer.budget is not None and used + points > offer.budget:
            return "BUDGET_EXHAUSTED", None
        return None, points

    async def _reverse(self, batch: _Batch, event: PartnerEventIn) -> EventResult:
        refers_to = event.refers_to or ""
        original: Any = batch.known.get(refers_to) or batch.in_batch.get(refers_to)
        fields = _fields(original)
        code = None
        if original is None or fields["type"] != COMPLETED:
            code = "UNKNOWN_EVENT"
        elif fields["status"] == EventStatus.REVERSED:
            code = "ALREADY_REVERSED"
        elif fields["status"] != EventStatus.ACCRUED:
            code = "NOT_ACCRUED"
        offer = batch.offers.get(fields.get("offer_id") or 0)
        if code is None and offer is None:
            code = "UNKNOWN_EVENT"
        if code is not None or offer is None:
            self._store(
                batch, event.id, event.type, event.raw, EventStatus.REJECTED, code, event=event
            )
            return EventResult(event.id, "rejected", code)
        points = int(fields["points"])
        _, shortfall = await self.ledger.reverse(
            fields["customer_id"],
            offer.currency,
            points,
            reason=Reason("LEDGER_OFFER_REVERSED", {"offer": every_language(offer, "title")}),
            source=Source("partner_event", f"{self.partner.code}:{event.id}"),
        )
        if offer.budget is not None:
            batch.spent[offer.id] -= points
        _set_status(original, EventStatus.REVERSED)
        self._store(
            batch,
            event.id,
            event.type,
            event.raw,
            EventStatus.APPLIED,
            None,
            event=event,
            points=points - shortfall,
            shortfall=shortfall,
        )
        return EventResult(event.id, "applied", points=points - shortfall)

    async def _post_accruals(self, batch: _Batch) -> None:
        if batch.accruals:
            # The batch locked these wallets already (see _lock_wallets).
            await self.ledger.accrue_many(batch.accruals, wallets_locked=True)
            batch.accruals = []

    def _store(
        self,
        batch: _Batch,
        event_id: str,
        event_type: str,
        raw: Any,
        status: str,
        reason: str | None,
        *,
        event: PartnerEventIn | None = None,
        offer: Offer | None = None,
        customer_id: int | None = None,
        points: int = 0,
        shortfall: int = 0,
    ) -> None:
        row = {
            "partner_id": self.partner.id,
            "event_id": event_id[:128],
            "type": event_type[:32],
            "payload": raw if isinstance(raw, dict) else {"value": raw},
            "status": status,
            "reason": reason,
            "customer_id": customer_id,
            "offer_id": offer.id if offer else None,
            "amount": event.amount if event else None,
            "points": points,
            "shortfall": shortfall,
            "refers_to": event.refers_to if event else None,
            "occurred_at": event.occurred_at if event else None,
            "received_at": self.clock(),
        }
        batch.rows.append(row)
        batch.in_batch[event_id[:128]] = row


def _fields(original: PartnerEvent | dict[str, Any] | None) -> dict[str, Any]:
    """The stored event's fields, whether it was stored before or earlier in this batch."""
    if original is None:
        return {}
    if isinstance(original, dict):
        return original
    return {
        name: getattr(original, name)
        for name in ("type", "status", "offer_id", "customer_id", "points")
    }


def _set_status(original: PartnerEvent | dict[str, Any], status: str) -> None:
    if isinstance(original, dict):
        original["status"] = status
    else:
        original.status = status


def _offer_pk(event: PartnerEventIn) -> int | None:
    return _offer_pk_of(event.offer_id) if event.offer_id else None


@lru_cache(maxsize=4096)
def _offer_pk_of(global_id: str) -> int | None:
    # A batch names a few offers hundreds of times; decode each once.
    return decode_typed_id(global_id, "Offer")
