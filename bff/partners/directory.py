"""Partners and their opened secrets, cached per process for a few seconds.

Every partner request needs its partner and secret; reading and decrypting them each
time costs more than the event itself. A rotated secret or a deactivated partner is
therefore honoured by every process within ``TTL_SECONDS``.

Offers are cached the same way for the single-event fast path, which checks the copy's
``updated_at`` in SQL: a stale copy only sends an event down the general path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bff.kernel.db import Database
from bff.kernel.secrets import SecretBox
from bff.ledger.service import LedgerService
from bff.partners.models import Offer, Partner
from bff.partners.repository import PartnerRepository

TTL_SECONDS = 10.0
MAX_CACHED_OFFERS = 10_000  # ids come from partners' requests: bound the memory


@dataclass(frozen=True)
class KnownPartner:
    partner: Partner
    secret: str
    enabled_currencies: frozenset[str]


class PartnerDirectory:
    def __init__(self, db: Database, box: SecretBox, ttl: float = TTL_SECONDS) -> None:
        self.db = db
        self.box = box
        self.ttl = ttl
        self._cache: dict[str, tuple[float, KnownPartner | None]] = {}
        self._offers: dict[int, tuple[float, Offer | None]] = {}

    async def get(self, code: str) -> KnownPartner | None:
        cached = self._cache.get(code)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.read() as session:
            partner = await PartnerRepository(session).partner_by_code(code)
            currencies = await LedgerService(session).currencies()
        known = None
        if partner is not None and partner.active:
            enabled = frozenset(c.code for c in currencies if c.enabled)
            known = KnownPartner(partner, self.box.open(partner.secret_encrypted), enabled)
        self._cache[code] = (time.monotonic() + self.ttl, known)
        return known

    def forget(self, code: str) -> None:
        self._cache.pop(code, None)

    async def offer(self, offer_id: int) -> Offer | None:
        """The offer as read at most ``ttl`` ago: detached, to be read, never changed."""
        cached = self._offers.get(offer_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.read() as session:
            offer = await PartnerRepository(session).offer(offer_id)
        if len(self._offers) >= MAX_CACHED_OFFERS:
            self._offers.clear()
        self._offers[offer_id] = (time.monotonic() + self.ttl, offer)
        return offer

    def forget_offer(self, offer_id: int) -> None:
        self._offers.pop(offer_id, None)
