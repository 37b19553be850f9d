"""``POST /api/orders/events``: the ordering system's signed events."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.config import Settings
from bff.earning.events import MalformedEvent, OrderEventIn, parse_order_event
from bff.earning.service import EarningPolicy, OrderService, Outcome
from bff.errors import DomainError
from bff.i18n import message
from bff.levels.service import LevelPolicy
from bff.marketplace.routes import resolve_redemption
from bff.signing import SignatureError, verify
from bff.types import utcnow

MAX_BODY_BYTES = 256 * 1024


def earning_policy(settings: Settings) -> EarningPolicy:
    return EarningPolicy(
        hold_window=timedelta(seconds=settings.order_hold_seconds),
        zone=ZoneInfo(settings.timezone),
        levels=LevelPolicy(settings.level_decay_days, settings.level_postpone_days),
    )


def refusal(http_status: int, code: str, message: str, /, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": {**extra, "code": code, "message": message}}, status_code=http_status
    )


def domain_refusal(error: DomainError) -> JSONResponse:
    """A 422 for an expected refusal; its parameters go under ``details``."""
    return refusal(422, error.code, message(error.code, "en", error.params), details=error.params)


async def signed_body(request: Request, secret: str) -> bytes | JSONResponse:
    """The request body if it is signed with ``secret``; a refusal otherwise."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return refusal(413, "TOO_LARGE", f"bodies are limited to {MAX_BODY_BYTES} bytes")
    settings: Settings = request.app.state.settings
    try:
        verify(
            secret,
            request.headers,
            body,
            now=time.time(),
            window_seconds=settings.signature_window_seconds,
        )
    except SignatureError as error:
        return refusal(401, error.code, error.message)
    return body


async def order_events(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    body = await signed_body(request, settings.orders_hmac_secret)
    if isinstance(body, JSONResponse):
        return body
    try:
        event = parse_order_event(body, utcnow())
    except MalformedEvent as error:
        return refusal(400, "MALFORMED", error.message, field=error.field)
    try:
        async with request.app.state.db.unit_of_work() as session:
            service = OrderService(session, earning_policy(settings))
            event_pk = await service.repository.claim_event(
                event.id, event.type, event.raw, utcnow()
            )
            if event_pk is None:
                seen = await service.repository.event(event.id)
                return JSONResponse(
                    {"status": "duplicate", "outcome": seen.outcome if seen else ""}
                )
            if event.redemption_id is not None:
                answer = await resolve_redemption(session, settings, event)
                label = answer["status"]
            else:
                outcome = await _apply(service, event)
                answer, label = _answer(outcome), _label(outcome)
            await service.repository.set_event_outcome(event_pk, label)
    except DomainError as error:
        # Rolled back, event id included: the sender may retry the same event later.
        return domain_refusal(error)
    return JSONResponse(answer)


async def _apply(service: OrderService, event: OrderEventIn) -> Outcome:
    if event.completed is not None:
        return await service.complete(event.completed)
    if event.refund_amount is not None:
        return await service.refund(event.brand, event.order_id, event.refund_amount)
    return await service.cancel(event.brand, event.order_id)


def _label(outcome: Outcome) -> str:
    return outcome.status if outcome.reason is None else f"{outcome.status}:{outcome.reason}"


def _answer(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "reason": outcome.reason,
        "accruals": [
            {
                "currency": row.currency,
                "amount": row.amount,
                "due_at": row.due_at.isoformat(),
                "reason": row.reason,
            }
            for row in outcome.accruals
        ],
    }
