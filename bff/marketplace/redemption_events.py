"""The ordering system confirms or cancels redemptions through ``POST /api/orders/events``
(``redemption.confirmed`` / ``redemption.cancelled``), signed like its order events."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.config import Settings
from bff.errors import NotFound
from bff.graphql.ids import decode_typed_id
from bff.marketplace.service import RedemptionService

if TYPE_CHECKING:
    from bff.earning.events import OrderEventIn


async def resolve_redemption(
    session: AsyncSession, settings: Settings, event: OrderEventIn
) -> dict[str, Any]:
    """Capture (confirmed) or void (cancelled) the redemption's hold; DomainErrors say why
    not (NOT_FOUND, HOLD_NOT_ACTIVE, HOLD_EXPIRED)."""
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
