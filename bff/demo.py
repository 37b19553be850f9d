"""Demo data for ``make run``: idempotent, so loading twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bff.customers.service import CustomerService
from bff.earning.models import ExpiryPolicy, RuleKind
from bff.earning.rule_service import RuleDraft, RuleService
from bff.earning.service import CompletedOrder, OrderService
from bff.flags.service import FlagService
from bff.kernel.db import Database
from bff.kernel.types import utcnow
from bff.ledger.errors import LedgerError
from bff.ledger.models import EntryKind
from bff.ledger.service import IdempotencyKey, LedgerService, Source

DEMO_CUSTOMER = "demo-anna"
DEMO_STAFF = "staff-olga"


@dataclass(frozen=True)
class Step:
    days_ago: float
    action: str  # accrue | spend | hold
    currency: str
    amount: int
    reason: str
    expires_in_days: int | None = None


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
                "Purchase at Grocery",
                expires_in_days=20 + week * 5,
            )
        )
        steps.append(Step(days_ago - 1, "accrue", "COINS", 3 + week % 4, "Pizza order"))
        if week % 3 == 2:
            steps.append(Step(days_ago - 2, "spend", "POINTS", 150, "Paid with points at Grocery"))
    steps.append(Step(0.1, "hold", "POINTS", 200, "Insurance policy, awaiting payment"))
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
        currency="COINS",
        kind=RuleKind.PER_AMOUNT,
        brand="pizza",
        step_amount=2000,
        points_per_step=1,
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    ),
    RuleDraft(
        code="grocery-cashback",
        title="Grocery cashback 3 % + level bonus",
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


async def load_demo(db: Database) -> dict[str, int]:
    """Create the demo customers and their history; returns posting counts per customer."""
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
