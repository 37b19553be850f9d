"""Marketplace rules: staff keep the shelf; customers redeem coins for gifts.

A redemption is a hold for the category's price. The ordering system confirms it (the
hold is captured) or cancels it (voided); a hold nobody resolves expires and the coins
come back. The redemption's state is therefore always its hold's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.catalogue import catalogue_changed
from bff.kernel.errors import DomainError, NotFound
from bff.kernel.links import is_picture_link
from bff.kernel.texts import Texts, every_language, translations_valid
from bff.kernel.types import utcnow
from bff.ledger.models import Hold, HoldStatus, Wallet
from bff.ledger.reasons import Reason
from bff.ledger.service import HoldResult, IdempotencyKey, LedgerService, Source
from bff.marketplace.errors import MarketplaceErrorCode
from bff.marketplace.models import EVERYWHERE, Category, Product, Redemption, StopListEntry
from bff.marketplace.repository import MarketplaceRepository

MAX_PRICE = 10**9


class GiftUnavailability(enum.StrEnum):
    """Why a gift cannot be taken; each is also a message code, said in the reader's
    language."""

    WITHDRAWN = "GIFT_WITHDRAWN"  # taken out of the catalogue
    STOPPED = "GIFT_STOPPED"  # on the stop-list for now


TITLE_LIMIT = 200
REASON_LIMIT = 500
NULLABLE = frozenset({"image_url"})


class ProductUnavailable(DomainError):
    code = MarketplaceErrorCode.PRODUCT_UNAVAILABLE
    field = ("product_id",)


class InvalidPrice(DomainError):
    code = MarketplaceErrorCode.INVALID_PRICE
    field = ("price",)


class InvalidTitle(DomainError):
    code = MarketplaceErrorCode.INVALID_TITLE
    field = ("title",)


class InvalidReason(DomainError):
    code = MarketplaceErrorCode.INVALID_REASON
    field = ("reason",)


class InvalidImageUrl(DomainError):
    code = MarketplaceErrorCode.INVALID_IMAGE_URL
    field = ("image_url",)


class InvalidTranslation(DomainError):
    code = MarketplaceErrorCode.INVALID_TRANSLATION
    field = ("translations",)


CATEGORY_TEXTS = {"title": TITLE_LIMIT}
PRODUCT_TEXTS = {"title": TITLE_LIMIT, "description": 4000}


class UnknownCurrency(DomainError):
    code = MarketplaceErrorCode.UNKNOWN_CURRENCY
    field = ("currency",)


@dataclass(frozen=True)
class CategoryDraft:
    title: str
    currency: str
    price: int
    image_url: str | None = None
    sort_order: int = 0
    texts: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class ProductDraft:
    title: str
    description: str = ""
    image_url: str | None = None
    texts: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class Unavailability:
    """Why a product cannot be taken now, and until when (None: until lifted)."""

    code: GiftUnavailability
    note: str | None  # staff's words on the stop-list entry
    until: datetime | None


def unavailability(
    active: bool, stops: Iterable[StopListEntry], city: str | None
) -> Unavailability | None:
    """None when a product (``active`` in the catalogue) can be taken in ``city`` (None:
    only stops everywhere count). ``stops`` are its entries in force now."""
    if not active:
        return Unavailability(GiftUnavailability.WITHDRAWN, None, None)
    for stop in stops:
        if stop.scope == EVERYWHERE or (
            city is not None and stop.scope.casefold() == city.casefold()
        ):
            return Unavailability(GiftUnavailability.STOPPED, stop.reason, stop.until)
    return None


def redemption_status(hold: Hold, now: datetime) -> str:
    if hold.status == HoldStatus.ACTIVE and hold.expires_at <= now:
        return "EXPIRED"  # the worker has not released it yet; it can no longer be confirmed
    if hold.status == HoldStatus.CAPTURED and (hold.refunded_amount or 0) >= hold.captured_amount:
        return "CANCELLED"  # after it was confirmed: the coins were given back
    return {
        HoldStatus.ACTIVE: "PENDING",
        HoldStatus.CAPTURED: "CONFIRMED",
        HoldStatus.VOIDED: "CANCELLED",
        HoldStatus.EXPIRED: "EXPIRED",
    }[HoldStatus(hold.status)]


class CatalogueService:
    """Staff: categories and products (`admin`), the stop-list (`support`)."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.repository = MarketplaceRepository(session)
        self.ledger = LedgerService(session, clock=clock)
        self.clock = clock

    async def create_category(self, draft: CategoryDraft) -> Category:
        await self._check_category(draft.title, draft.price, draft.currency)
        _check_image(draft.image_url)
        _check_texts(draft.texts, CATEGORY_TEXTS)
        now = self.clock()
        category = Category(**asdict(draft), active=True, created_at=now, updated_at=now)
        await self.repository.save(category)
        await catalogue_changed(self.session)
        return category

    async def update_category(self, category_id: int, changes: dict[str, Any]) -> Category:
        category = await self.repository.category(category_id)
        if category is None:
            raise NotFound(field=("id",))
        changes = _without_nulls(changes)
        title = changes.get("title", category.title)
        await self._check_category(title, changes.get("price", category.price), category.currency)
        _check_image(changes.get("image_url"))
        _check_texts(changes.get("texts", {}), CATEGORY_TEXTS)
        await self._apply(category, changes)
        return category

    async def create_product(self, category_id: int, draft: ProductDraft) -> Product:
        if await self.repository.category(category_id) is None:
            raise NotFound(field=("category_id",))
        _check_title(draft.title)
        _check_image(draft.image_url)
        _check_texts(draft.texts, PRODUCT_TEXTS)
        now = self.clock()
        product = Product(
            **asdict(draft), category_id=category_id, active=True, created_at=now, updated_at=now
        )
        await self.repository.save(product)
        await catalogue_changed(self.session)
        return product

    async def update_product(self, product_id: int, changes: dict[str, Any]) -> Product:
        product = await self.repository.product(product_id)
        if product is None:
            raise NotFound(field=("id",))
        changes = _without_nulls(changes)
        _check_title(changes.get("title", product.title))
        _check_image(changes.get("image_url"))
        _check_texts(changes.get("texts", {}), PRODUCT_TEXTS)
        await self._apply(product, changes)
        return product

    async def stop(
        self, product_id: int, city: str | None, reason: str, until: datetime | None, actor: str
    ) -> Product:
        """Put a product on the stop-list in ``city`` (None: everywhere); setting it again
        replaces the reason and the end."""
        product = await self._product(product_id)
        if not reason.strip() or len(reason) > REASON_LIMIT:
            raise InvalidReason()
        scope = _scope(city)
        entry = await self.repository.stop(product_id, scope)
        if entry is None:
            entry = StopListEntry(product_id=product_id, scope=scope, created_at=self.clock())
        entry.reason, entry.until, entry.created_by = reason.strip(), until, actor
        await self.repository.save(entry)
        await catalogue_changed(self.session)
        return product

    async def lift(self, product_id: int, city: str | None) -> Product:
        product = await self._product(product_id)
        entry = await self.repository.stop(product_id, _scope(city))
        if entry is not None:
            await self.repository.delete(entry)
            await catalogue_changed(self.session)
        return product

    async def _product(self, product_id: int) -> Product:
        product = await self.repository.product(product_id)
        if product is None:
            raise NotFound(field=("product_id",))
        return product

    async def _check_category(self, title: str, price: int, currency: str) -> None:
        _check_title(title)
        if isinstance(price, bool) or not isinstance(price, int) or not 0 < price <= MAX_PRICE:
            raise InvalidPrice(maximum=MAX_PRICE)
        if await self.ledger.currency(currency) is None:
            raise UnknownCurrency(currency=currency)

    async def _apply(self, row: Category | Product, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = self.clock()
        await self.repository.save(row)
        await catalogue_changed(self.session)


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    hold: Hold
    wallet: Wallet
    replayed: bool


class RedemptionService:
    def __init__(
        self,
        session: AsyncSession,
        hold_ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = MarketplaceRepository(session)
        self.ledger = LedgerService(session, clock=clock)
        self.hold_ttl = hold_ttl
        self.clock = clock

    async def redeem(
        self,
        customer_id: int,
        product_id: int,
        *,
        key: str,
        expected_version: int | None,
        city: str | None,
    ) -> Redeemed:
        """Hold the category's price for the product. The same key again answers with the
        first redemption, even if the product has been stop-listed since."""
        earlier = await self.repository.redemption_by_key(customer_id, key)
        product = await self.repository.product(product_id)
        if product is None:
            raise NotFound(field=("product_id",))
        category = await self.repository.category(product.category_id)
        assert category is not None
        if earlier is None:
            stops = await self.repository.stops_of([product.id], self.clock())
            if not category.active or unavailability(product.active, stops, city) is not None:
                raise ProductUnavailable()
        result = await self.ledger.hold(
            customer_id,
            category.currency,
            category.price,
            reason=Reason("LEDGER_GIFT", {"title": every_language(product, "title")}),
            source=Source("marketplace_product", str(product.id)),
            ttl=self.hold_ttl,
            idempotency=IdempotencyKey(f"marketplace:{customer_id}", key),
            expected_version=expected_version,
        )
        redemption = await self._redemption_of(result, customer_id, product, key)
        return Redeemed(redemption, result.hold, result.wallet, result.replayed)

    async def confirm(self, redemption_id: int) -> HoldResult:
        """The order with the gift went through: the coins are taken."""
        redemption = await self._existing(redemption_id)
        return await self.ledger.capture(redemption.hold_id, reason=Reason("LEDGER_GIFT_CONFIRMED"))

    async def cancel(self, redemption_id: int) -> HoldResult:
        """The order was cancelled: the coins come back, released from the hold or, once
        confirmed, refunded (once, however many cancellations arrive)."""
        redemption = await self._existing(redemption_id)
        hold = await self.ledger.find_hold(redemption.hold_id)
        if hold is None or hold.status != HoldStatus.CAPTURED:
            return await self.ledger.void(
                redemption.hold_id, reason=Reason("LEDGER_GIFT_CANCELLED")
            )
        posting = await self.ledger.refund(
            hold.id,
            hold.captured_amount,
            reason=Reason("LEDGER_GIFT_CANCELLED"),
            idempotency=IdempotencyKey("redemption-cancel", str(redemption.id)),
        )
        refreshed = await self.ledger.find_hold(hold.id)
        assert refreshed is not None
        return HoldResult(refreshed, posting.wallet, (posting.entry,), replayed=posting.replayed)

    async def _existing(self, redemption_id: int) -> Redemption:
        redemption = await self.repository.redemption(redemption_id)
        if redemption is None:
            raise NotFound(field=("redemption", "id"))
        return redemption

    async def _redemption_of(
        self, result: HoldResult, customer_id: int, product: Product, key: str
    ) -> Redemption:
        if result.replayed:
            found = await self.repository.redemption_by_hold(result.hold.id)
            assert found is not None, "a replayed hold always has its redemption"
            return found
        redemption = Redemption(
            customer_id=customer_id,
            product_id=product.id,
            currency=result.hold.currency,
            price=result.hold.amount,
            hold_id=result.hold.id,
            idempotency_key=key,
            created_at=self.clock(),
        )
        await self.repository.save(redemption)
        return redemption


def _without_nulls(changes: dict[str, Any]) -> dict[str, Any]:
    """Null leaves a required field as it is; only the picture can be removed."""
    return {name: value for name, value in changes.items() if value is not None or name in NULLABLE}


def _scope(city: str | None) -> str:
    if city is None or not city.strip():
        return EVERYWHERE
    return city.strip()[:64]


def _check_image(url: str | None) -> None:
    if url is not None and not is_picture_link(url):
        raise InvalidImageUrl()


def _check_texts(texts: Texts, limits: dict[str, int]) -> None:
    if not translations_valid(texts, limits):
        raise InvalidTranslation()


def _check_title(title: str) -> None:
    if not title.strip() or len(title) > TITLE_LIMIT:
        raise InvalidTitle(limit=TITLE_LIMIT)
