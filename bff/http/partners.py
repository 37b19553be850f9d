"""The partner API: signed events and paying with points (holds)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bff.customers.service import CustomerService
from bff.earning.cashback import CashbackHistory, ChangeReason
from bff.http.common import Refusal, check_signature, hold_id_in_path
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.errors import MalformedInput, json_object, text_field
from bff.ledger.models import Hold
from bff.ledger.reasons import Reason
from bff.ledger.service import HoldResult, IdempotencyKey, LedgerService, Source
from bff.partners.adapters import ADAPTERS
from bff.partners.boosts import BoostOutcome
from bff.partners.directory import KnownPartner, PartnerDirectory
from bff.partners.event_service import EventResult, PartnerEventService, TakeGeneralPath
from bff.partners.events import Invalid, PartnerEventIn, parse_event, read_body
from bff.partners.models import Partner


async def signed_partner(request: Request) -> tuple[KnownPartner, bytes]:
    """The partner named in the URL and the body, if the body is signed with its secret."""
    body = await request.body()
    directory: PartnerDirectory = request.app.state.partners
    known = await directory.get(request.path_params["partner_code"])
    if known is None:
        raise Refusal(404, "UNKNOWN_PARTNER", "no active partner has this code")
    check_signature(request, known.secret, body)
    return known, body


def _events(partner: Partner, objects: list[Any]) -> list[PartnerEventIn | Invalid]:
    adapter = ADAPTERS.get(partner.adapter) if partner.adapter else None
    events: list[PartnerEventIn | Invalid] = []
    for raw in objects:
        try:
            universal = adapter.to_universal(raw) if adapter else raw
            events.append(parse_event(universal))
        except MalformedInput as error:
            event_id = universal_id(raw, adapter is not None)
            events.append(Invalid(event_id, raw, error))
    return events


def universal_id(raw: Any, adapted: bool) -> str | None:
    key = "txn" if adapted else "id"
    value = raw.get(key) if isinstance(raw, dict) else None
    usable = isinstance(value, str) and 0 < len(value) <= 128 and "\x00" not in value
    return value if usable else None


async def partner_events(request: Request) -> Response:
    known, body = await signed_partner(request)
    partner = known.partner
    objects, is_batch = read_body(body)
    state = request.app.state
    results = await _ingest(state.db, state.partners, known, _events(partner, objects))
    if is_batch:
        return JSONResponse({"results": [result.as_json() for result in results]})
    return JSONResponse(results[0].as_json())


BOOST_CHANGES = {BoostOutcome.STARTED.value, BoostOutcome.ENDED.value}


async def _ingest(
    db: Database,
    directory: PartnerDirectory,
    known: KnownPartner,
    events: list[PartnerEventIn | Invalid],
) -> list[EventResult]:
    # Two paths on purpose: the fast one serves the common case (one plain completion)
    # in two statements, and bench/partner_events.py shows single events running at more
    # than twice the general path's rate with it. Measure again before removing it.
    if len(events) == 1:
        try:
            async with db.unit_of_work() as session:
                service = PartnerEventService(
                    session, known.partner, enabled=known.enabled_currencies
                )
                return [await service.complete_alone(events[0], directory)]
        except TakeGeneralPath:
            pass  # rolled back; the general path gives the exact answer
    async with db.unit_of_work() as session:
        service = PartnerEventService(session, known.partner, enabled=known.enabled_currencies)
        results = await service.ingest(events)
        # A product that started or ended a boost changed the customer's percentage.
        history = CashbackHistory(session)
        for result in results:
            if result.code in BOOST_CHANGES and result.customer_id is not None:
                source = f"partner:{known.partner.code}:{result.id}"
                await history.observe(result.customer_id, ChangeReason.PARTNER_BOOST, source)
        return results


# paying with points


async def hold_create(request: Request) -> Response:
    known, body = await signed_partner(request)
    partner = known.partner
    if partner.kopecks_per_point is None:
        raise Refusal(409, "POINTS_NOT_ACCEPTED", "this partner does not take points")
    data = json_object(body)
    customer_ext = text_field(data, "customer_id", 255)
    key = text_field(data, "idempotency_key", 255)
    amount = _positive(data, "amount")
    points = amount // partner.kopecks_per_point
    if points <= 0:
        raise Refusal(422, "AMOUNT_TOO_SMALL", "the amount is worth less than one point")
    settings: Settings = request.app.state.settings
    async with request.app.state.db.unit_of_work() as session:
        customer = await CustomerService(session).find(customer_ext)
        if customer is None:
            raise Refusal(404, "UNKNOWN_CUSTOMER", "no customer has this id")
        result = await LedgerService(session).hold(
            customer.id,
            "POINTS",
            points,
            reason=Reason("LEDGER_PARTNER_PAYMENT", {"partner": partner.name}),
            source=Source("partner", partner.code),
            ttl=timedelta(seconds=settings.hold_ttl_seconds),
            idempotency=IdempotencyKey(f"partner:{partner.code}", key),
        )
    return JSONResponse(_hold_json(result, partner), status_code=200 if result.replayed else 201)


async def hold_capture(request: Request) -> Response:
    return await _resolve(request, capture=True)


async def hold_void(request: Request) -> Response:
    return await _resolve(request, capture=False)


async def hold_refund(request: Request) -> Response:
    """Give back part or all of a captured payment, once per idempotency key."""
    known, body = await signed_partner(request)
    partner = known.partner
    hold_id = hold_id_in_path(request)
    data = json_object(body)
    key = text_field(data, "idempotency_key", 255)
    points = _positive(data, "amount") // (partner.kopecks_per_point or 1)
    if points <= 0:
        raise Refusal(422, "AMOUNT_TOO_SMALL", "the amount is worth less than one point")
    async with request.app.state.db.unit_of_work() as session:
        ledger = LedgerService(session)
        if not _owned(await ledger.find_hold(hold_id), partner):
            raise Refusal(404, "UNKNOWN_HOLD", "this partner has no hold with this id")
        posting = await ledger.refund(
            hold_id,
            points,
            reason=Reason("LEDGER_PARTNER_REFUND", {"partner": partner.name}),
            idempotency=IdempotencyKey(f"partner-refund:{partner.code}", key),
        )
        hold = await ledger.find_hold(hold_id)
    assert hold is not None
    answer = _hold_json(HoldResult(hold, posting.wallet, (posting.entry,)), partner)
    return JSONResponse(
        answer | {"refunded_now": posting.entry.delta, "replayed": posting.replayed}
    )


async def _resolve(request: Request, *, capture: bool) -> Response:
    known, body = await signed_partner(request)
    partner = known.partner
    hold_id = hold_id_in_path(request)
    data = json_object(body) if body.strip() else {}
    amount = _positive(data, "amount") if "amount" in data else None
    async with request.app.state.db.unit_of_work() as session:
        ledger = LedgerService(session)
        if not _owned(await ledger.find_hold(hold_id), partner):
            raise Refusal(404, "UNKNOWN_HOLD", "this partner has no hold with this id")
        if capture:
            points = None if amount is None else amount // (partner.kopecks_per_point or 1)
            result = await ledger.capture(hold_id, points)
        else:
            result = await ledger.void(hold_id)
    return JSONResponse(_hold_json(result, partner))


def _owned(hold: Hold | None, partner: Partner) -> bool:
    return hold is not None and hold.source_type == "partner" and hold.source_id == partner.code


def _hold_json(result: HoldResult, partner: Partner) -> dict[str, Any]:
    hold, rate = result.hold, partner.kopecks_per_point or 0
    return {
        "hold_id": hold.id,
        "status": hold.status,
        "points": hold.amount,
        "covered_amount": hold.amount * rate,
        "captured_points": hold.captured_amount,
        "captured_amount": hold.captured_amount * rate,
        "refunded_points": hold.refunded_amount or 0,
        "refunded_amount": (hold.refunded_amount or 0) * rate,
        "expires_at": hold.expires_at.isoformat(),
        "replayed": result.replayed,
    }


def _positive(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**12:
        raise MalformedInput(key, "must be a whole number of kopecks above zero")
    return value
