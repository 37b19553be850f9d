"""``GET /api/partners/{code}/events`` and ``/holds``: what a partner sent and what became
of it, so that it can reconcile its books with ours. Signed like the partner's other
requests, over an empty body; pages oldest first, by ``after`` (the ``next`` of the
previous page), optionally within ``since``/``until`` (ISO 8601 with a zone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.customers.service import CustomerService
from bff.http.partners import signed_partner
from bff.kernel.errors import MalformedInput
from bff.kernel.global_ids import MAX_PK, encode_id
from bff.kernel.types import Window
from bff.ledger.models import Hold
from bff.ledger.service import LedgerService, Source
from bff.partners.event_service import PartnerEventService
from bff.partners.models import PartnerEvent

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


async def partner_event_statement(request: Request) -> JSONResponse:
    known, _body = await signed_partner(request)
    window = window_of(request)
    async with request.app.state.db.read() as session:
        events = await PartnerEventService(session, known.partner).statement(window)
        subjects = await CustomerService(session).external_ids(
            [event.customer_id for event in events if event.customer_id is not None]
        )
    return JSONResponse(
        {"events": [_event_json(event, subjects) for event in events], **_next(events, window)}
    )


async def partner_hold_statement(request: Request) -> JSONResponse:
    known, _body = await signed_partner(request)
    window = window_of(request)
    source = Source("partner", known.partner.code)
    rate = known.partner.kopecks_per_point or 0
    async with request.app.state.db.read() as session:
        holds = await LedgerService(session).holds_of(source, window)
        subjects = await CustomerService(session).external_ids([h.customer_id for h in holds])
    return JSONResponse(
        {"holds": [_hold_json(hold, rate, subjects) for hold in holds], **_next(holds, window)}
    )


def window_of(request: Request) -> Window:
    query = request.query_params
    return Window(
        after_id=_whole(query.get("after"), "after", 0, MAX_PK, 0),
        limit=_whole(query.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT),
        since=_time(query.get("since"), "since"),
        until=_time(query.get("until"), "until"),
    )


def _whole(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise MalformedInput(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or not 1900 <= parsed.year <= 9000:
        raise MalformedInput(name, "must be an ISO 8601 time with a zone")
    return parsed


def _next(rows: Sequence[PartnerEvent | Hold], window: Window) -> dict[str, Any]:
    """``next``: pass it as ``after`` for the following page; null on the last one."""
    full = len(rows) == window.limit
    return {"next": str(rows[-1].id) if full else None}


def _event_json(event: PartnerEvent, subjects: dict[int, str]) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "status": event.status,
        "reason": event.reason,
        "customer_id": subjects.get(event.customer_id) if event.customer_id else None,
        "offer_id": encode_id("Offer", event.offer_id) if event.offer_id else None,
        "amount": event.amount,
        "points": event.points,
        "shortfall": event.shortfall,
        "refers_to": event.refers_to,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        "received_at": event.received_at.isoformat(),
    }


def _hold_json(hold: Hold, rate: int, subjects: dict[int, str]) -> dict[str, Any]:
    return {
        "hold_id": hold.id,
        "customer_id": subjects.get(hold.customer_id),
        "status": hold.status,
        "points": hold.amount,
        "covered_amount": hold.amount * rate,
        "captured_points": hold.captured_amount,
        "captured_amount": hold.captured_amount * rate,
        "created_at": hold.created_at.isoformat(),
        "expires_at": hold.expires_at.isoformat(),
        "resolved_at": hold.resolved_at.isoformat() if hold.resolved_at else None,
    }
