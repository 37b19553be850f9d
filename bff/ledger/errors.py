"""Expected ledger outcomes; codes are members of ``LedgerErrorCode``."""

from __future__ import annotations

from bff.errors import DomainError, NotFound

__all__ = [
    "CaptureExceedsHold",
    "CurrencyDisabled",
    "HoldExpired",
    "HoldNotActive",
    "IdempotencyConflict",
    "IdempotencyKeyInvalid",
    "InsufficientFunds",
    "InvalidAmount",
    "LedgerError",
    "NotFound",
    "ReasonRequired",
    "VersionConflict",
    "ZeroAmount",
]


class LedgerError(DomainError):
    pass


class InvalidAmount(LedgerError):
    code = "INVALID_AMOUNT"
    field = ("amount",)


class ZeroAmount(LedgerError):
    code = "ZERO_AMOUNT"
    field = ("amount",)


class InsufficientFunds(LedgerError):
    code = "INSUFFICIENT_FUNDS"
    field = ("amount",)


class VersionConflict(LedgerError):
    code = "VERSION_CONFLICT"
    field = ("expectedVersion",)


class IdempotencyConflict(LedgerError):
    code = "IDEMPOTENCY_CONFLICT"
    field = ("idempotencyKey",)


class IdempotencyKeyInvalid(LedgerError):
    code = "IDEMPOTENCY_KEY_INVALID"
    field = ("idempotencyKey",)


class HoldNotActive(LedgerError):
    code = "HOLD_NOT_ACTIVE"


class HoldExpired(LedgerError):
    code = "HOLD_EXPIRED"


class CaptureExceedsHold(LedgerError):
    code = "CAPTURE_EXCEEDS_HOLD"
    field = ("amount",)


class CurrencyDisabled(LedgerError):
    code = "CURRENCY_DISABLED"
    field = ("currency",)


class ReasonRequired(LedgerError):
    code = "REASON_REQUIRED"
    field = ("reason",)
