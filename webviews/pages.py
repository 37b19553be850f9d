"""What each page shows, read through the domains' repositories and services.

Every function returns plain data for a template; templates never touch the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from bff.customers.repository import CustomerRepository
from bff.earning.cashback import CashbackService, PartKind
from bff.kernel.catalogue import CatalogueCache
from bff.kernel.config import Settings
from bff.kernel.db import Database
from bff.kernel.global_ids import encode_id
from bff.kernel.i18n import message
from bff.kernel.texts import localized
from bff.kernel.types import utcnow
from bff.ledger.models import LedgerEntry
from bff.ledger.repository import LedgerRepository
from bff.levels.service import LevelPolicy, LevelService, level_name, perk_title
from bff.marketplace.models import Category
from bff.marketplace.repository import MarketplaceRepository
from bff.marketplace.service import RedemptionService, unavailability
from bff.partners import models as partner_models
from bff.partners.boosts import BoostService
from bff.partners.models import PartnerCategory
from bff.partners.repository import PartnerRepository
from bff.partners.service import ActivationService, availability, is_published

FEED_SIZE = 50
HISTORY_PAGE = 20
SHELF_PRODUCTS = 20
HEADER_ORDER = {"POINTS": 0, "COINS": 1}


@dataclass(frozen=True)
class OfferCard:
    pk: int
    id: str
    title: str
    description: str
    terms: str
    reward_points: int | None
    reward_percent: float | None
    reward_cap: int | None
    currency: str
    partner_name: str
    partner_code: str
    partner_logo: str | None
    active: bool  # activated by the viewer
    unavailable: str | None


@dataclass(frozen=True)
class PartnerView:
    code: str
    name: str
    description: str
    logo: str | None


@dataclass
class Feed:
    offers: list[OfferCard]
    categories: list[tuple[str, str]]  # (code, name in the reader's language)
    category: str | None


@dataclass(frozen=True)
class Gift:
    pk: int
    title: str
    description: str
    picture: str | None
    available: bool
    reason: str | None
    until: datetime | None


@dataclass
class Shelf:
    title: str
    price: int
    currency: str
    gifts: list[Gift] = field(default_factory=list)


async def offer_feed(
    db: Database,
    catalogue: CatalogueCache,
    customer_id: int | None,
    category: str | None,
    locale: str,
) -> Feed:
    async with db.read() as session:
        repository = PartnerRepository(session)
        offers = await repository.offers_page(
            after_id=None,
            limit=FEED_SIZE,
            partner_code=None,
            category=category,
            active_at=utcnow(),
        )
        cards = await _cards(repository, offers, customer_id, locale)
    codes = await catalogue.get("partner-categories", partial(_categories, db))
    names = [(code, category_name(code, locale)) for code in codes]
    return Feed(cards, names, category)


def category_name(stored: str, locale: str) -> str:
    return message(f"PARTNER_CATEGORY_{PartnerCategory.of(stored).name}", locale)


async def _categories(db: Database) -> list[str]:
    """The filter chips: categories of active partners, the same for every customer."""
    async with db.read() as session:
        partners = await PartnerRepository(session).partners_page(after_id=None, limit=200)
    return sorted({partner.category for partner in partners if partner.active})


async def _cards(
    repository: PartnerRepository,
    offers: Sequence[partner_models.Offer],
    customer_id: int | None,
    locale: str,
) -> list[OfferCard]:
    if not offers:
        return []
    partner_rows = await repository.partners_by_ids(sorted({o.partner_id for o in offers}))
    partners = {p.id: p for p in partner_rows}
    active: set[int] = set()
    if customer_id is not None:
        rows = await repository.activations_of(customer_id, [o.id for o in offers])
        active = {row.offer_id for row in rows if row.active}
    now = utcnow()
    return [_card(o, partners[o.partner_id], o.id in active, now, locale) for o in offers]


def _card(
    offer: partner_models.Offer,
    partner: partner_models.Partner,
    active: bool,
    now: datetime,
    locale: str,
) -> OfferCard:
    percent = offer.reward_percent_bp / 100 if offer.reward_percent_bp else None
    return OfferCard(
        pk=offer.id,
        id=encode_id("Offer", offer.id),
        title=localized(offer, "title", locale),
        description=localized(offer, "description", locale),
        terms=localized(offer, "terms", locale),
        reward_points=offer.reward_points,
        reward_percent=percent,
        reward_cap=offer.reward_cap,
        currency=offer.currency,
        partner_name=localized(partner, "name", locale),
        partner_code=partner.code,
        partner_logo=partner.logo_url,
        active=active,
        unavailable=availability(offer, now),
    )


async def offer_detail(
    db: Database, offer_pk: int, customer_id: int | None, locale: str
) -> OfferCard | None:
    async with db.read() as session:
        repository = PartnerRepository(session)
        offer = await repository.offer(offer_pk)
        if offer is None or not is_published(offer, utcnow()):
            return None
        cards = await _cards(repository, [offer], customer_id, locale)
    return cards[0]


async def partner_page(
    db: Database, code: str, customer_id: int | None, locale: str
) -> tuple[PartnerView, list[OfferCard]] | None:
    async with db.read() as session:
        repository = PartnerRepository(session)
        partner = await repository.partner_by_code(code)
        if partner is None or not partner.active:
            return None
        offers = await repository.offers_page(
            after_id=None,
            limit=FEED_SIZE,
            partner_code=code,
            category=None,
            active_at=utcnow(),
        )
        cards = await _cards(repository, offers, customer_id, locale)
    view = PartnerView(
        code=partner.code,
        name=localized(partner, "name", locale),
        description=localized(partner, "description", locale),
        logo=partner.logo_url,
    )
    return view, cards


async def set_activation(db: Database, customer_id: int, offer_pk: int, on: bool) -> None:
    async with db.unit_of_work() as session:
        service = ActivationService(session)
        await (service.activate if on else service.deactivate)(customer_id, offer_pk)


async def marketplace(db: Database, city: str | None, locale: str) -> list[Shelf]:
    async with db.read() as session:
        repository = MarketplaceRepository(session)
        categories: list[Category] = list(await repository.active_categories())
        ids = [c.id for c in categories]
        products = await repository.products_of_categories(ids, after_id=None, limit=SHELF_PRODUCTS)
        stops = await repository.stops_of([p.id for p in products], utcnow())
    stops_of = defaultdict(list)
    for stop in stops:
        stops_of[stop.product_id].append(stop)
    shelves = {c.id: Shelf(localized(c, "title", locale), c.price, c.currency) for c in categories}
    for product in products:
        why = unavailability(product.active, stops_of[product.id], city)
        shelves[product.category_id].gifts.append(
            Gift(
                pk=product.id,
                title=localized(product, "title", locale),
                description=localized(product, "description", locale),
                picture=product.image_url,
                available=why is None,
                reason=message(why.code, locale) if why else None,
                until=why.until if why else None,
            )
        )
    return list(shelves.values())


async def redeem(
    db: Database, settings: Settings, customer_id: int, product_pk: int, key: str, city: str | None
) -> None:
    ttl = timedelta(seconds=settings.redemption_hold_seconds)
    async with db.unit_of_work() as session:
        await RedemptionService(session, ttl).redeem(
            customer_id, product_pk, key=key, expected_version=None, city=city
        )


@dataclass(frozen=True)
class LevelView:
    code: str
    name: str
    next_name: str | None
    completed: int
    next_threshold: int | None
    to_go: int | None
    percent: int
    perks: list[str]  # in the reader's language
    decay_at: datetime | None
    can_postpone: bool


async def level_view(db: Database, policy: LevelPolicy, customer_id: int, locale: str) -> LevelView:
    async with db.read() as session:
        standing = await LevelService(session, policy).standing_of(customer_id)
    level, after = standing.level, standing.next_level
    done = standing.completed_orders

    percent = 100
    if after is not None:
        span = max(1, after.threshold - level.threshold)
        percent = max(0, min(100, round((done - level.threshold) * 100 / span)))
    return LevelView(
        code=level.code,
        name=level_name(level, locale),
        next_name=level_name(after, locale) if after else None,
        completed=done,
        next_threshold=after.threshold if after else None,
        to_go=max(0, after.threshold - done) if after else None,
        percent=percent,
        perks=[perk_title(code, locale) for code in level.perks or []],
        decay_at=standing.decay_at,
        can_postpone=standing.can_postpone,
    )


async def postpone(db: Database, policy: LevelPolicy, customer_id: int) -> None:
    async with db.unit_of_work() as session:
        await LevelService(session, policy).postpone(customer_id)


async def history(
    db: Database, customer_id: int, before_id: int | None
) -> tuple[list[LedgerEntry], int | None]:
    """A page of entries, newest first, and the id to continue before (None: no more)."""
    async with db.read() as session:
        rows = list(
            await LedgerRepository(session).history_page(
                customer_id, limit=HISTORY_PAGE + 1, before_id=before_id
            )
        )
    more = len(rows) > HISTORY_PAGE
    page = rows[:HISTORY_PAGE]
    return page, (page[-1].id if more and page else None)


async def customer_city(db: Database, customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    async with db.read() as session:
        rows = await CustomerRepository(session).by_ids([customer_id])
    return rows[0].city if rows else None


@dataclass(frozen=True)
class Header:
    """The customer's balances and level, at the top of every page."""

    balances: list[tuple[str, int]]  # (currency, available), in the program's order
    level: str


async def header(db: Database, policy: LevelPolicy, customer_id: int, locale: str) -> Header:
    async with db.read() as session:
        ledger = LedgerRepository(session)
        currencies = [c for c in await ledger.currencies() if c.enabled]
        wallets = {w.currency: w for w in await ledger.wallets_by_customer_ids([customer_id])}
        standing = await LevelService(session, policy).standing_of(customer_id)
    shown = sorted(
        (c.code for c in currencies if c.code in wallets or c.code != "LEGACY"),
        key=lambda code: HEADER_ORDER.get(code, len(HEADER_ORDER)),
    )  # the old program's bonus rubles only while a wallet of them is left
    balances = [
        (code, wallets[code].balance - wallets[code].held if code in wallets else 0)
        for code in shown
    ]
    return Header(balances, level_name(standing.level, locale))


@dataclass(frozen=True)
class CashbackLine:
    kind: str  # BASE | LEVEL | PARTNER_BOOST
    source: str
    percent: float
    until: datetime | None


@dataclass(frozen=True)
class BrandCashback:
    title: str  # the brand's percentage rules, in the reader's language
    percent: float
    cap: float | None
    lines: list[CashbackLine]


@dataclass(frozen=True)
class NextStep:
    offer_id: str
    offer_title: str
    partner_name: str
    percent: float


async def cashback_view(
    db: Database, policy: LevelPolicy, customer_id: int, locale: str
) -> tuple[list[BrandCashback], NextStep | None]:
    """The customer's percentage on each brand with a percentage rule, its parts, and the
    partner product that would raise it most."""
    views = []
    async with db.read() as session:
        service = CashbackService(session, policy)
        for brand in await service.repository.percent_brands("POINTS", utcnow()):
            found = await service.of(customer_id, brand)
            sources = list(zip(found.parts, await service.sources(found, locale), strict=True))
            views.append(
                BrandCashback(
                    title=" · ".join(s for p, s in sources if p.kind == PartKind.BASE),
                    percent=found.percent_bp / 100,
                    cap=found.cap_bp / 100 if found.cap_bp is not None else None,
                    lines=[
                        CashbackLine(p.kind.value, s, p.percent_bp / 100, p.until)
                        for p, s in sources
                    ],
                )
            )
        suggestion = await BoostService(session).next_boost(customer_id)
        partner = (
            (await PartnerRepository(session).partners_by_ids([suggestion.partner_id]))[0]
            if suggestion is not None
            else None
        )
    step = None
    if suggestion is not None and suggestion.boost_bp and partner is not None:
        step = NextStep(
            encode_id("Offer", suggestion.id),
            localized(suggestion, "title", locale),
            localized(partner, "name", locale),
            suggestion.boost_bp / 100,
        )
    return views, step
