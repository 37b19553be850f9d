"""Partners and their opened secrets, cached per process for a few seconds.

Every partner request needs its partner and secret; reading and decrypting them each
time costs more than the event itself. A rotated secret or a deactivated partner is
therefore honoured by every process within ``TTL_SECONDS``.

Offers are cached the same way for the single-event fast path, which checks the copy's
``updated_at`` in SQL: a stale copy only sends an event down the general path.

Codes and ids come from requests, so both caches are bounded (least recently used go
first) and a code or id that names nothing is never kept: a caller sending random ones
reads each time and fills nothing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from bff.kernel.db import Database
from bff.kernel.secrets import SecretBox
from bff.ledger.service import LedgerService
from bff.partners.models import Offer, Partner
from bff.partners.repository import PartnerRepository

TTL_SECONDS = 10.0
MAX_CACHED_PARTNERS = 1_000
MAX_CACHED_OFFERS = 10_000

K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """Values kept ``ttl`` seconds, at most ``size`` of them, least recently used first out."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size, self.ttl = size, ttl
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` while ``key`` is kept and fresh, else ``(False, None)``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def keep(self, key: K, value: V) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)


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
        # A known code of an inactive partner is kept as None: refused within the TTL.
        self._partners: _Recent[str, KnownPartner | None] = _Recent(MAX_CACHED_PARTNERS, ttl)
        self._offers: _Recent[int, Offer] = _Recent(MAX_CACHED_OFFERS, ttl)

    async def get(self, code: str) -> KnownPartner | None:
        found, cached = self._partners.get(code)
        if found:
            return cached
        async with self.db.read() as session:
            partner = await PartnerRepository(session).partner_by_code(code)
            currencies = await LedgerService(session).currencies()
        if partner is None:
            return None
        known = None
        if partner.active:
            enabled = frozenset(c.code for c in currencies if c.enabled)
            known = KnownPartner(partner, self.box.open(partner.secret_encrypted), enabled)
        self._partners.keep(code, known)
        return known

    def forget(self, code: str) -> None:
        self._partners.forget(code)

    def kept(self) -> tuple[int, int]:
        """How many partners and offers this process keeps now."""
        return len(self._partners), len(self._offers)

    async def offer(self, offer_id: int) -> Offer | None:
        """The offer as read at most ``ttl`` ago: detached, to be read, never changed."""
        found, cached_offer = self._offers.get(offer_id)
        if found:
            return cached_offer
        async with self.db.read() as session:
            offer = await PartnerRepository(session).offer(offer_id)
        if offer is not None:
            self._offers.keep(offer_id, offer)
        return offer

    def forget_offer(self, offer_id: int) -> None:
        self._offers.forget(offer_id)
