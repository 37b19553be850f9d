"""Staff edit the accrual rules; every change is recorded with its author."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bff.earning.errors import EarningErrorCode
from bff.earning.models import AccrualRule, AccrualRuleChange, ExpiryPolicy, RuleKind
from bff.earning.repository import EarningRepository
from bff.kernel.errors import DomainError, NotFound
from bff.kernel.texts import Texts, translations_valid
from bff.kernel.types import utcnow
from bff.ledger.service import LedgerService

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")


class RuleError(DomainError):
    pass


class CodeTaken(RuleError):
    code = EarningErrorCode.CODE_TAKEN
    field = ("code",)


class InvalidCode(RuleError):
    code = EarningErrorCode.INVALID_CODE
    field = ("code",)


class InvalidRate(RuleError):
    code = EarningErrorCode.INVALID_RATE


class InvalidWindow(RuleError):
    code = EarningErrorCode.INVALID_WINDOW
    field = ("valid_to",)


class InvalidExpiry(RuleError):
    code = EarningErrorCode.INVALID_EXPIRY
    field = ("expiry_days",)


class InvalidTranslation(RuleError):
    code = EarningErrorCode.INVALID_TRANSLATION
    field = ("translations",)


RULE_TEXTS = {"title": 200}


class RuleCurrencyDisabled(RuleError):
    code = EarningErrorCode.CURRENCY_DISABLED
    field = ("currency",)


@dataclass
class RuleDraft:
    """Every editable field of a rule."""

    code: str
    title: str
    currency: str
    kind: str
    valid_from: datetime
    brand: str | None = None
    step_amount: int | None = None
    points_per_step: int | None = None
    percent_bp: int | None = None
    level_bonus: bool = False
    cities: list[str] | None = None
    valid_to: datetime | None = None
    expiry_policy: str = ExpiryPolicy.NEVER
    expiry_days: int | None = None
    flag_key: str | None = None
    active: bool = True
    texts: Texts = field(default_factory=dict)


EDITABLE = tuple(f.name for f in fields(RuleDraft))


def snapshot(rule: AccrualRule) -> dict[str, Any]:
    return {name: _plain(getattr(rule, name)) for name in EDITABLE}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class RuleService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = EarningRepository(session)
        self.ledger = LedgerService(session)

    async def create(self, draft: RuleDraft, actor: str) -> AccrualRule:
        if not CODE.match(draft.code):
            raise InvalidCode()
        if await self.repository.rule_by_code(draft.code):
            raise CodeTaken()
        await self._validate(draft)
        now = utcnow()
        rule = AccrualRule(**asdict(draft), created_at=now, updated_at=now)
        await self.repository.save(rule)
        await self._record(rule, actor, "created", None)
        return rule

    async def update(self, rule_id: int, changes: dict[str, Any], actor: str) -> AccrualRule:
        rule = await self.repository.rule(rule_id)
        if rule is None:
            raise NotFound(field=("id",))
        before = snapshot(rule)
        draft = RuleDraft(**{name: getattr(rule, name) for name in EDITABLE})
        for name, value in changes.items():
            if name == "code":
                raise InvalidCode()  # codes are referenced by reports; they never change
            setattr(draft, name, value)
        await self._validate(draft)
        for name in changes:
            setattr(rule, name, getattr(draft, name))
        rule.updated_at = utcnow()
        await self.repository.save(rule)
        await self._record(rule, actor, "updated", before)
        return rule

    async def _validate(self, draft: RuleDraft) -> None:
        currency = await self.ledger.currency(draft.currency)
        if currency is None or not currency.enabled:
            raise RuleCurrencyDisabled(currency=draft.currency)
        if draft.kind == RuleKind.PER_AMOUNT:
            if not (draft.step_amount or 0) > 0 or not (draft.points_per_step or 0) > 0:
                raise InvalidRate(field=("step_amount",))
        elif not 0 < (draft.percent_bp or 0) <= 10_000:
            raise InvalidRate(field=("percent_basis_points",))
        if draft.valid_to is not None and draft.valid_to <= draft.valid_from:
            raise InvalidWindow()
        if (draft.expiry_policy == ExpiryPolicy.DAYS) != bool(draft.expiry_days):
            raise InvalidExpiry()
        if not translations_valid(draft.texts, RULE_TEXTS):
            raise InvalidTranslation()
        if draft.expiry_days is not None and not 0 < draft.expiry_days <= 3660:
            raise InvalidExpiry()

    async def _record(
        self, rule: AccrualRule, actor: str, action: str, before: dict[str, Any] | None
    ) -> None:
        await self.repository.add_rule_change(
            AccrualRuleChange(
                rule_id=rule.id,
                actor=actor,
                action=action,
                before=before,
                after=snapshot(rule),
                changed_at=utcnow(),
            )
        )
