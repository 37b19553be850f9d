"""``POST /api/orders/events``: the ordering system's signed events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.earning.events import OrderEventIn, parse_order_event
from bff.earning.service import OrderService, Outcome
from bff.http.common import signed_body
from bff.kernel.config import Settings
from bff.kernel.errors import NotFound
from bff.kernel.global_ids import decode_typed_id
from bff.kernel.types import utcnow
from bff.marketplace.service import RedemptionService
from bff.policies import Policies


async def order_events(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    policies: Policies = request.app.state.policies
    body = await signed_body(request, settings.orders_hmac_secret)
    event = parse_order_event(body, utcnow())
    async with request.app.state.db.unit_of_work() as session:
        service = OrderService(session, policies.earning)
        event_pk = await service.repository.claim_event(event.id, event.type, event.raw, utcnow())
        if event_pk is None:
            seen = await service.repository.event(event.id)
            return JSONResponse({"status": "duplicate", "outcome": seen.outcome if seen else ""})
        if event.redemption_id is not None:
            answer = await resolve_redemption(session, settings, event)
            label = answer["status"]
        else:
            outcome = await _apply(service, event)
            answer, label = _answer(outcome), _label(outcome)
        await service.repository.set_event_outcome(event_pk, label)
    return JSONResponse(answer)


async def _apply(service: OrderService, event: OrderEventIn) -> Outcome:
    if event.completed is not None:
        return await service.complete(event.completed)
    if event.refund_amount is not None:
        return await service.refund(event.brand, event.order_id, event.refund_amount)
    return await service.cancel(event.brand, event.order_id)


async def resolve_redemption(
    session: AsyncSession, settings: Settings, event: OrderEventIn
) -> dict[str, Any]:
    """Capture (confirmed) the redemption's hold, or give the coins back (cancelled);
    DomainErrors say why not (NOT_FOUND, HOLD_NOT_ACTIVE, HOLD_EXPIRED)."""
    redemption_id = decode_typed_id(event.redemption_id or "", "Redemption")
    if redemption_id is None:
        raise NotFound(field=("redemption", "id"))
    service = RedemptionService(session, timedelta(seconds=settings.redemption_hold_seconds))
    if event.type == "redemption.confirmed":
        result = await service.confirm(redemption_id)
        status = "confirmed"
    else:
        result = await service.cancel(redemption_id)
        status = "cancelled"
    return {
        "status": status,
        "redemption": event.redemption_id,
        "wallet": {
            "currency": result.wallet.currency,
            "balance": result.wallet.balance,
            "held": result.wallet.held,
            "version": result.wallet.version,
        },
    }


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
