"""Checkout codes: what the app shows at a till (as a QR code) so that the till knows the
customer without a card. A code is sealed by the service (nobody can make one up), valid
for a minute, and pays once; a quote may read it beforehand."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.errors import DomainError
from bff.kernel.secrets import SecretBox
from bff.kernel.types import utcnow
from bff.spending.errors import SpendingErrorCode
from bff.spending.repository import SpendingRepository

CODE_SECONDS = 60
MAX_CODE_LENGTH = 512
# Used codes are kept a while past their validity, so that none can pay twice.
KEEP_USED = timedelta(seconds=5 * CODE_SECONDS)


class CheckoutCodeRefused(DomainError):
    code = SpendingErrorCode.CHECKOUT_CODE_REFUSED
    field = ("checkout_code",)


@dataclass(frozen=True)
class CheckoutCode:
    code: str
    expires_at: datetime


class CheckoutCodes:
    def __init__(self, box: SecretBox, clock: Callable[[], datetime] = utcnow) -> None:
        self.box = box
        self.clock = clock

    def issue(self, customer_id: int) -> CheckoutCode:
        payload = json.dumps({"customer": customer_id, "nonce": secrets.token_hex(16)})
        return CheckoutCode(self.box.seal(payload), self.clock() + timedelta(seconds=CODE_SECONDS))

    async def customer_of(self, session: AsyncSession, code: str, *, use: bool) -> int:
        """The customer the code names; with ``use``, the code is spent (a payment)."""
        opened = self.box.open_recent(code, CODE_SECONDS) if len(code) <= MAX_CODE_LENGTH else None
        if opened is None:
            raise CheckoutCodeRefused(why="expired or not one of ours")
        payload = json.loads(opened)
        if use and not await self._use(session, str(payload["nonce"])):
            raise CheckoutCodeRefused(why="already used")
        return int(payload["customer"])

    async def _use(self, session: AsyncSession, nonce: str) -> bool:
        now = self.clock()
        return await SpendingRepository(session).use_code(nonce, now, now - KEEP_USED)
