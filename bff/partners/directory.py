"""Partners and their opened secrets, cached per process for a few seconds.

Every partner request needs its partner and secret; reading and decrypting them each
time costs more than the event itself. A rotated secret or a deactivated partner is
therefore honoured by every process within ``TTL_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bff.db import Database
from bff.ledger.repository import LedgerRepository
from bff.partners.models import Partner
from bff.partners.repository import PartnerRepository
from bff.secrets import SecretBox

TTL_SECONDS = 10.0


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

    async def get(self, code: str) -> KnownPartner | None:
        cached = self._cache.get(code)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.read() as session:
            partner = await PartnerRepository(session).partner_by_code(code)
            currencies = await LedgerRepository(session).currencies()
        known = None
        if partner is not None and partner.active:
            enabled = frozenset(c.code for c in currencies if c.enabled)
            known = KnownPartner(partner, self.box.open(partner.secret_encrypted), enabled)
        self._cache[code] = (time.monotonic() + self.ttl, known)
        return known

    def forget(self, code: str) -> None:
        self._cache.pop(code, None)
