"""Partner catalogue rules: who may run offers, and who may activate them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.customers.service import CustomerService
from bff.kernel.catalogue import catalogue_changed
from bff.kernel.errors import DomainError, NotFound
from bff.kernel.links import is_picture_link
from bff.kernel.secrets import SecretBox
from bff.kernel.texts import Texts, translations_valid
from bff.kernel.types import utcnow
from bff.ledger.service import LedgerService
from bff.levels.service import LevelService
from bff.partners.errors import PartnerErrorCode
from bff.partners.models import Offer, OfferActivation, Partner, RewardKind
from bff.partners.repository import PartnerRepository

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
SECRET_BYTES = 32


class CodeTaken(DomainError):
    code = PartnerErrorCode.CODE_TAKEN
    field = ("code",)


class InvalidCode(DomainError):
    code = PartnerErrorCode.INVALID_CODE
    field = ("code",)


class InvalidReward(DomainError):
    code = PartnerErrorCode.INVALID_REWARD


class InvalidWindow(DomainError):
    code = PartnerErrorCode.INVALID_WINDOW
    field = ("valid_to",)


class OfferUnavailable(DomainError):
    """Raised with the code saying why: inactive, not started, expired or exhausted."""

    def __init__(self, code: PartnerErrorCode) -> None:
        super().__init__(field=("offer_id",))
        self.code = code  # type: ignore[misc]


class NotTargeted(DomainError):
    code = PartnerErrorCode.NOT_TARGETED
    field = ("offer_id",)


class AlreadyActivated(DomainError):
    code = PartnerErrorCode.ALREADY_ACTIVATED
    field = ("offer_id",)


class NotActivated(DomainError):
    code = PartnerErrorCode.NOT_ACTIVATED
    field = ("offer_id",)


class InvalidTranslation(DomainError):
    code = PartnerErrorCode.INVALID_TRANSLATION
    field = ("translations",)


MAX_BOOST_DAYS = 3650
PARTNER_TEXTS = {"name": 200, "description": 4000}
OFFER_TEXTS = {"title": 200, "description": 4000, "terms": 4000}


class LimitReached(DomainError):
    code = PartnerErrorCode.LIMIT_REACHED
    field = ("offer_id",)


@dataclass
class PartnerDraft:
    code: str
    name: str
    category: str
    logo_url: str | None = None
    description: str = ""
    adapter: str | None = None
    kopecks_per_point: int | None = None
    active: bool = True
    texts: Texts = field(default_factory=dict)


@dataclass
class OfferDraft:
    title: str
    reward_kind: str
    valid_from: datetime
    currency: str = "POINTS"
    description: str = ""
    terms: str = ""
    reward_points: int | None = None
    reward_percent_bp: int | None = None
    reward_cap: int | None = None
    valid_to: datetime | None = None
    per_customer_limit: int | None = None
    budget: int | None = None
    cities: list[str] | None = None
    levels: list[str] | None = None
    boost_bp: int | None = None
    boost_days: int | None = None
    active: bool = True
    texts: Texts = field(default_factory=dict)


def is_published(offer: Offer, now: datetime) -> bool:
    """Customers see an offer once it is active and its window has opened; an offer that
    ended or ran out of budget stays visible (it says why it is unavailable)."""
    return offer.active and offer.valid_from <= now


def availability(offer: Offer, now: datetime) -> PartnerErrorCode | None:
    """None when the offer is open now; otherwise the error code saying why not."""
    if not offer.active:
        return PartnerErrorCode.OFFER_INACTIVE
    if now < offer.valid_from:
        return PartnerErrorCode.OFFER_NOT_STARTED
    if offer.valid_to is not None and offer.valid_to <= now:
        return PartnerErrorCode.OFFER_EXPIRED
    if offer.budget is not None and offer.budget_spent >= offer.budget:
        return PartnerErrorCode.OFFER_EXHAUSTED
    return None


class PartnerService:
    """Staff manage partners and offers."""

    def __init__(self, session: AsyncSession, box: SecretBox) -> None:
        self.session = session
        self.repository = PartnerRepository(session)
        self.ledger = LedgerService(session)
        self.box = box

    async def create_partner(self, draft: PartnerDraft) -> tuple[Partner, str]:
        """The partner and its new signing secret, shown this once."""
        if not CODE.match(draft.code):
            raise InvalidCode()
        if await self.repository.partner_by_code(draft.code):
            raise CodeTaken()
        _check_partner(draft)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        now = utcnow()
        partner = Partner(
            **asdict(draft), secret_encrypted=self.box.seal(secret), created_at=now, updated_at=now
        )
        await self.repository.save(partner)
        await catalogue_changed(self.session)
        return partner, secret

    async def update_partner(self, code: str, changes: dict[str, Any]) -> Partner:
        partner = await self._partner(code)
        draft = PartnerDraft(**{f.name: getattr(partner, f.name) for f in fields(PartnerDraft)})
        for name, value in changes.items():
            setattr(draft, name, value)
        _check_partner(draft)
        for name in changes:
            setattr(partner, name, getattr(draft, name))
        partner.updated_at = utcnow()
        await self.repository.save(partner)
        await catalogue_changed(self.session)
        return partner

    async def rotate_secret(self, code: str) -> tuple[Partner, str]:
        partner = await self._partner(code)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        partner.secret_encrypted = self.box.seal(secret)
        partner.updated_at = utcnow()
        await self.repository.save(partner)
        await catalogue_changed(self.session)
        return partner, secret

    async def create_offer(self, partner_code: str, draft: OfferDraft) -> Offer:
        partner = await self._partner(partner_code)
        await self._check_offer(draft)
        now = utcnow()
        offer = Offer(
            **asdict(draft), partner_id=partner.id, budget_spent=0, created_at=now, updated_at=now
        )
        await self.repository.save(offer)
        await catalogue_changed(self.session)
        return offer

    async def update_offer(self, offer_id: int, changes: dict[str, Any]) -> Offer:
        offer = await self.repository.offer(offer_id)
        if offer is None:
            raise NotFound(field=("id",))
        draft = OfferDraft(**{f.name: getattr(offer, f.name) for f in fields(OfferDraft)})
        for name, value in changes.items():
            setattr(draft, name, value)
        await self._check_offer(draft)
        for name in changes:
            setattr(offer, name, getattr(draft, name))
        offer.updated_at = utcnow()
        await self.repository.save(offer)
        await catalogue_changed(self.session)
        return offer

    async def _partner(self, code: str) -> Partner:
        partner = await self.repository.partner_by_code(code)
        if partner is None:
            raise NotFound(field=("partner_code",))
        return partner

    async def _check_offer(self, draft: OfferDraft) -> None:
        currency = await self.ledger.currency(draft.currency)
        if currency is None or not currency.enabled:
            raise InvalidReward(field=("currency",))
        if draft.reward_kind == RewardKind.FIXED:
            if not 0 < (draft.reward_points or 0) <= 1_000_000:
                raise InvalidReward(field=("reward_points",))
        elif not 0 < (draft.reward_percent_bp or 0) <= 10_000:
            raise InvalidReward(field=("reward_percent_basis_points",))
        if draft.reward_cap is not None and draft.reward_cap <= 0:
            raise InvalidReward(field=("reward_cap",))
        if draft.valid_to is not None and draft.valid_to <= draft.valid_from:
            raise InvalidWindow()
        if draft.per_customer_limit is not None and draft.per_customer_limit <= 0:
            raise InvalidReward(field=("per_customer_limit",))
        if draft.budget is not None and draft.budget <= 0:
            raise InvalidReward(field=("budget",))
        if draft.boost_bp is not None and not 0 < draft.boost_bp <= 10_000:
            raise InvalidReward(field=("boost_basis_points",))
        if draft.boost_days is not None and (
            draft.boost_bp is None or not 0 < draft.boost_days <= 3650
        ):
            raise InvalidReward(field=("boost_days",))
        if not translations_valid(draft.texts, OFFER_TEXTS):
            raise InvalidTranslation()


def _check_partner(draft: PartnerDraft) -> None:
    if draft.logo_url is not None and not is_picture_link(draft.logo_url):
        raise InvalidReward(field=("logo_url",))
    if draft.kopecks_per_point is not None and not 0 < draft.kopecks_per_point <= 100_000:
        raise InvalidReward(field=("kopecks_per_point",))
    if not translations_valid(draft.texts, PARTNER_TEXTS):
        raise InvalidTranslation()


class ActivationService:
    """Customers opt into offers; a partner's events accrue only for activated offers."""

    def __init__(self, session: AsyncSession, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.repository = PartnerRepository(session)
        self.customers = CustomerService(session)
        self.levels = LevelService(session, clock=clock)
        self.clock = clock

    async def activate(self, customer_id: int, offer_id: int) -> OfferActivation:
        offer = await self._open_offer(offer_id)
        await self._check_targeting(customer_id, offer)
        activation = await self.repository.activation(offer_id, customer_id)
        if activation is not None and activation.active:
            raise AlreadyActivated()
        limit = offer.per_customer_limit
        if activation is not None and limit is not None and activation.completions >= limit:
            raise LimitReached()
        now = self.clock()
        if activation is None:
            activation = OfferActivation(
                offer_id=offer_id, customer_id=customer_id, completions=0, activated_at=now
            )
        activation.active, activation.activated_at = True, now
        activation.deactivated_at = None
        await self.repository.save(activation)
        return activation

    async def deactivate(self, customer_id: int, offer_id: int) -> OfferActivation:
        if await self.repository.offer(offer_id) is None:
            raise NotFound(field=("offer_id",))
        activation = await self.repository.activation(offer_id, customer_id)
        if activation is None or not activation.active:
            raise NotActivated()
        activation.active, activation.deactivated_at = False, self.clock()
        await self.repository.save(activation)
        return activation

    async def _open_offer(self, offer_id: int) -> Offer:
        offer = await self.repository.offer(offer_id)
        if offer is None:
            raise NotFound(field=("offer_id",))
        partners = await self.repository.partners_by_ids([offer.partner_id])
        if not partners or not partners[0].active:
            raise OfferUnavailable(PartnerErrorCode.OFFER_INACTIVE)
        problem = availability(offer, self.clock())
        if problem is not None:
            raise OfferUnavailable(problem)
        return offer

    async def _check_targeting(self, customer_id: int, offer: Offer) -> None:
        if offer.cities:
            customer = await self.customers.find_by_id(customer_id)
            if customer is None or customer.city not in offer.cities:
                raise NotTargeted()
        if offer.levels and await self.levels.level_code_of(customer_id) not in offer.levels:
            raise NotTargeted()
