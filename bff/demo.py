"""Demo data for ``make run``: idempotent, so loading twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from bff.customers.service import CustomerService
from bff.earning.models import ExpiryPolicy, RuleKind
from bff.earning.rule_service import RuleDraft, RuleService
from bff.earning.service import CompletedOrder, OrderService
from bff.flags.service import FlagService
from bff.kernel.assets import Assets
from bff.kernel.auth import Role
from bff.kernel.db import Database
from bff.kernel.secrets import SecretBox
from bff.kernel.types import utcnow
from bff.ledger.errors import LedgerError
from bff.ledger.models import EntryKind
from bff.ledger.reasons import Reason
from bff.ledger.service import IdempotencyKey, LedgerService, Source
from bff.marketplace.service import CatalogueService, CategoryDraft, ProductDraft
from bff.partners.boosts import BoostService, ProductState
from bff.partners.repository import PartnerRepository
from bff.partners.service import ActivationService, OfferDraft, PartnerDraft, PartnerService
from bff.spending.service import WHOLE, SpendingRuleDraft, SpendingService
from webviews.assets import webview_assets

DEMO_CUSTOMER = "demo-anna"
DEMO_STAFF = {Role.SUPPORT: "staff-olga", Role.MARKETING: "staff-mia", Role.ADMIN: "staff-ivan"}
DEMO_CITY = "moscow"


@dataclass(frozen=True)
class Step:
    days_ago: float
    action: str  # accrue | spend | hold
    currency: str
    amount: int
    reason: Reason  # said in the reader's language
    expires_in_days: int | None = None


def _said(en: str, ru: str) -> Reason:
    return Reason("LEDGER_RULE", {"title": {"en": en, "ru": ru}})


GROCERY = _said("Purchase at Grocery", "Покупка в «Продуктах»")
PIZZA = _said("Pizza order", "Заказ пиццы")
PAID = _said("Paid with points at Grocery", "Оплата баллами в «Продуктах»")
POLICY = _said("Insurance policy, awaiting payment", "Страховой полис, ждёт оплаты")


def _history(seed: int) -> list[Step]:
    steps: list[Step] = []
    for week in range(12):
        days_ago = 84 - week * 7 + seed
        steps.append(
            Step(
                days_ago,
                "accrue",
                "POINTS",
                120 + 15 * week,
                GROCERY,
                expires_in_days=20 + week * 5,
            )
        )
        steps.append(Step(days_ago - 1, "accrue", "COINS", 3 + week % 4, PIZZA))
        if week % 3 == 2:
            steps.append(Step(days_ago - 2, "spend", "POINTS", 150, PAID))
    steps.append(Step(0.1, "hold", "POINTS", 200, POLICY))
    return steps


PROFILES = {
    DEMO_CUSTOMER: ("Анна", "ru", 0),
    "demo-boris": ("Boris", "en", 2),
    "demo-vera": ("Vera", "ru", None),
}


DEMO_RULES = [
    RuleDraft(
        code="pizza-coins",
        title="Pizza order: 1 coin per 20 rubles",
        texts={"ru": {"title": "Заказ пиццы: 1 монета за 20 рублей"}},
        currency="COINS",
        kind=RuleKind.PER_AMOUNT,
        brand="pizza",
        step_amount=2000,
        points_per_step=1,
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    ),
    RuleDraft(
        code="grocery-cashback",
        title="Grocery cashback 3% + level bonus",
        texts={"ru": {"title": "Кешбэк в «Продуктах» 3 % + бонус уровня"}},
        currency="POINTS",
        kind=RuleKind.PERCENT,
        brand="grocery",
        percent_bp=300,
        level_bonus=True,
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
        expiry_policy=ExpiryPolicy.END_OF_YEAR,
    ),
]


async def load_program(db: Database) -> None:
    """Accrual rules and a flag, created once."""
    async with db.unit_of_work() as session:
        rules = RuleService(session)
        for draft in DEMO_RULES:
            if await rules.repository.rule_by_code(draft.code) is None:
                await rules.create(draft, actor="demo")
        flags = FlagService(session)
        if await flags.repository.get("marketplace") is None:
            await flags.set(
                "marketplace",
                enabled=True,
                rollout_percent=100,
                cities=None,
                description="The coin marketplace screen",
                actor="demo",
            )


@dataclass(frozen=True)
class DemoPartner:
    draft: PartnerDraft
    offers: tuple[OfferDraft, ...]


def _partners(now: datetime) -> list[DemoPartner]:
    opened = now - timedelta(days=30)
    return [
        DemoPartner(
            PartnerDraft(
                "bank",
                "North Bank",
                "bank",
                logo_url=_picture("demo-bank.svg"),
                description="A card that earns points at our partners.",
                texts={
                    "ru": {
                        "name": "Банк Север",
                        "description": "Карта с кешбэком баллами за покупки у партнёров.",
                    }
                },
            ),
            (
                OfferDraft(
                    "Open a debit card",
                    "fixed",
                    opened,
                    reward_points=500,
                    description="500 points for your first purchase with the card, and +2% "
                    "cashback at Grocery while you use it.",
                    terms="Once per customer.",
                    per_customer_limit=1,
                    boost_bp=200,
                    texts={
                        "ru": {
                            "title": "Оформите дебетовую карту",
                            "description": "500 баллов за первую покупку картой и +2 % "
                            "кешбэка в «Продуктах», пока вы ею пользуетесь.",
                            "terms": "Один раз на клиента.",
                        }
                    },
                ),
                OfferDraft(
                    "5% back in points for paying by card",
                    "percent",
                    opened,
                    reward_percent_bp=500,
                    reward_cap=300,
                    description="Up to 300 points per purchase.",
                    texts={
                        "ru": {
                            "title": "5 % баллами за оплату картой",
                            "description": "До 300 баллов с одной покупки.",
                        }
                    },
                ),
            ),
        ),
        DemoPartner(
            PartnerDraft(
                "mobile",
                "Mobile",
                "telecom",
                logo_url=_picture("demo-mobile.svg"),
                description="Mobile plans.",
                texts={"ru": {"name": "Мобайл", "description": "Мобильная связь."}},
            ),
            (
                OfferDraft(
                    "Switch to the Family plan",
                    "fixed",
                    opened,
                    reward_points=300,
                    description="300 points after your first payment.",
                    levels=["SILVER", "GOLD", "PLATINUM"],
                    texts={
                        "ru": {
                            "title": "Перейдите на тариф «Семья»",
                            "description": "300 баллов после первого платежа.",
                        }
                    },
                ),
            ),
        ),
        DemoPartner(
            PartnerDraft(
                "insurer",
                "Insurance",
                "insurance",
                logo_url=_picture("demo-insurer.svg"),
                description="Home and travel insurance; takes points.",
                kopecks_per_point=100,
                texts={
                    "ru": {
                        "name": "Страхование",
                        "description": "Страховка квартиры и путешествий; принимает баллы.",
                    }
                },
            ),
            (
                OfferDraft(
                    "Travel insurance",
                    "fixed",
                    opened,
                    reward_points=200,
                    valid_to=now + timedelta(days=60),
                    description="200 points for a trip policy, and +1% cashback for 90 days.",
                    boost_bp=100,
                    boost_days=90,
                    texts={
                        "ru": {
                            "title": "Страховка путешествия",
                            "description": "200 баллов за полис на поездку и +1 % кешбэка "
                            "на 90 дней.",
                        }
                    },
                ),
            ),
        ),
    ]


# ((title in en, ru), price in coins, picture, [(product in en, ru)])
SHELF = [
    (
        ("Coffee and pastries", "Кофе и выпечка"),
        50,
        "demo-coffee.svg",
        [("Cappuccino", "Капучино"), ("Croissant", "Круассан"), ("Tea", "Чай")],
    ),
    (
        ("Delivery", "Доставка"),
        120,
        "demo-delivery.svg",
        [
            ("Free delivery", "Бесплатная доставка"),
            ("Delivery on time", "Доставка к точному времени"),
        ],
    ),
    (
        ("Cinema", "Кино"),
        300,
        "demo-cinema.svg",
        [("Cinema ticket", "Билет в кино"), ("Popcorn", "Попкорн")],
    ),
]
STOPPED = "Popcorn"  # a stop-listed gift in the demo city


@cache
def _demo_assets() -> Assets:
    return webview_assets()


def _picture(name: str) -> str:
    """The path of a picture among the WebViews' static files (content-hashed)."""
    return _demo_assets().url(name)


async def load_catalogue(db: Database, box: SecretBox) -> dict[str, int]:
    """Partners with logos and offers (one activated by the demo customer), a gift shelf
    with pictures and one gift stopped in the demo city, and the spending rule; each
    created once."""
    made = {"partners": 0, "offers": 0, "gifts": 0}
    now = utcnow()
    async with db.unit_of_work() as session:
        partners = PartnerService(session, box)
        for demo in _partners(now):
            if await partners.repository.partner_by_code(demo.draft.code) is not None:
                continue
            await partners.create_partner(demo.draft)
            made["partners"] += 1
            for offer in demo.offers:
                await partners.create_offer(demo.draft.code, offer)
                made["offers"] += 1
        catalogue = CatalogueService(session)
        if not await catalogue.repository.active_categories():
            for order, ((title, title_ru), price, picture, products) in enumerate(SHELF):
                category = await catalogue.create_category(
                    CategoryDraft(
                        title,
                        "COINS",
                        price,
                        _picture(picture),
                        order,
                        texts={"ru": {"title": title_ru}},
                    )
                )
                for name, name_ru in products:
                    gift = ProductDraft(
                        name, image_url=_picture("demo-gift.svg"), texts={"ru": {"title": name_ru}}
                    )
                    product = await catalogue.create_product(category.id, gift)
                    made["gifts"] += 1
                    if name == STOPPED:
                        await catalogue.stop(product.id, DEMO_CITY, "Sold out", None, "demo")
        spending = SpendingService(session)
        if not await spending.rules():
            rule = SpendingRuleDraft(
                "POINTS", kopecks_per_point=100, max_share_bp=3000, level_shares={"PLATINUM": WHOLE}
            )
            await spending.set_rule(rule, actor="demo")
    await _activate_first_offer(db)
    return made


async def _activate_first_offer(db: Database) -> None:
    async with db.unit_of_work() as session:
        customer = await CustomerService(session).ensure(DEMO_CUSTOMER)
        offers = await PartnerRepository(session).offers_page(
            after_id=None, limit=1, partner_code="bank", category=None, active_at=utcnow()
        )
        activations = ActivationService(session)
        if offers and await activations.repository.activation(offers[0].id, customer.id) is None:
            await activations.activate(customer.id, offers[0].id)
            # The bank reports the card in use: its boost raises the demo's percentage.
            await BoostService(session).report(
                offers[0], customer.id, ProductState.ACTIVATED, utcnow() - timedelta(days=3)
            )


async def load_orders(db: Database, external_id: str, count: int) -> int:
    """Orders through the real earning path; the last one is still in its hold window."""
    placed = 0
    for number in range(count):
        at = utcnow() - timedelta(days=count - number) if number < count - 1 else utcnow()
        async with db.unit_of_work() as session:
            outcome = await OrderService(session).complete(
                CompletedOrder(
                    external_id=f"{external_id}-{number}",
                    brand=("pizza", "grocery")[number % 2],
                    customer_external_id=external_id,
                    city="moscow",
                    amount=150_000 + 35_000 * number,
                    completed_at=at,
                )
            )
        placed += outcome.status == "applied"
    return placed


async def load_demo(db: Database, box: SecretBox) -> dict[str, int]:
    """Create the demo customers, their history and the catalogue; returns what was
    created (postings per customer, orders, partners, offers, gifts)."""
    created: dict[str, int] = {}
    for external_id, (name, locale, seed) in PROFILES.items():
        async with db.unit_of_work() as session:
            customer = await CustomerService(session).ensure(external_id)
            await CustomerService(session).update_profile(
                customer.id, display_name=name, locale=locale
            )
        steps = _history(seed) if seed is not None else []
        created[external_id] = 0
        for number, step in enumerate(steps):
            if await _apply(db, customer.id, number, step):
                created[external_id] += 1
    await load_program(db)
    created["orders"] = await load_orders(db, DEMO_CUSTOMER, 6)
    created |= await load_catalogue(db, box)
    return created


async def _apply(db: Database, customer_id: int, number: int, step: Step) -> bool:
    now = utcnow()
    at = now - timedelta(days=step.days_ago)
    key = IdempotencyKey(f"demo:{customer_id}", f"step-{number}")
    source = Source("demo", str(number))
    clock: Callable[[], datetime] = (lambda: at) if step.action != "hold" else utcnow
    try:
        async with db.unit_of_work() as session:
            ledger = LedgerService(session, clock=clock)
            if step.action == "accrue":
                expires = (
                    at + timedelta(days=step.expires_in_days) if step.expires_in_days else None
                )
                result = await ledger.accrue(
                    customer_id,
                    step.currency,
                    step.amount,
                    reason=step.reason,
                    source=source,
                    idempotency=key,
                    expires_at=expires,
                    kind=EntryKind.ACCRUAL,
                )
            elif step.action == "spend":
                result = await ledger.spend(
                    customer_id,
                    step.currency,
                    step.amount,
                    reason=step.reason,
                    source=source,
                    idempotency=key,
                )
            else:
                hold = await ledger.hold(
                    customer_id,
                    step.currency,
                    step.amount,
                    reason=step.reason,
                    source=source,
                    ttl=timedelta(days=7),
                    idempotency=key,
                )
                return not hold.replayed
    except LedgerError:
        return False
    return not result.replayed
