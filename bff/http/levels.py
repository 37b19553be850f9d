"""``GET /api/customers/{external_id}/level``: perks the ordering system reads (signed)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.customers.service import CustomerService
from bff.http.common import Refusal, signed_body
from bff.kernel.config import Settings
from bff.levels.service import LevelService
from bff.policies import Policies


async def customer_level(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    policies: Policies = request.app.state.policies
    await signed_body(request, settings.orders_hmac_secret)
    external_id = request.path_params["external_id"]
    async with request.app.state.db.read() as session:
        customer = await CustomerService(session).find(external_id)
        if customer is None:
            raise Refusal(404, "CUSTOMER_NOT_FOUND", "no customer has this id")
        standing = await LevelService(session, policies.levels).standing_of(customer.id)
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
