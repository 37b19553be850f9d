"""``GET /api/customers/{external_id}/level``: perks the ordering system reads (signed)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.config import Settings
from bff.customers.repository import CustomerRepository
from bff.earning.routes import earning_policy, refusal, signed_body
from bff.levels.service import LevelService


async def customer_level(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    body = await signed_body(request, settings.orders_hmac_secret)
    if isinstance(body, JSONResponse):
        return body
    external_id = request.path_params["external_id"]
    async with request.app.state.db.read() as session:
        customer = await CustomerRepository(session).by_external_id(external_id)
        if customer is None:
            return refusal(404, "CUSTOMER_NOT_FOUND", "no customer has this id")
        service = LevelService(session, earning_policy(settings).levels)
        ladder = await service.ladder()
        standing = service.describe(ladder, await service.repository.standing(customer.id))
    level = standing.level
    return JSONResponse(
        {
            "customer_id": external_id,
            "level": level.code,
            "perks": level.perks,
            "cashback_bonus_bp": level.cashback_bonus_bp,
            "completed_orders": standing.completed_orders,
        }
    )
