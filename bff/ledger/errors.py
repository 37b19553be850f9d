"""Expected ledger outcomes and their codes, ``LedgerErrorCode``."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, DomainError, ErrorCode, NotFound

__all__ = [
    "BalanceLimitReached",
    "CaptureExceedsHold",
    "CurrencyDisabled",
    "HoldExpired",
    "HoldNotActive",
    "HoldNotCaptured",
    "IdempotencyConflict",
    "IdempotencyKeyInvalid",
    "InsufficientFunds",
    "InvalidAmount",
    "LedgerError",
    "LedgerErrorCode",
    "NotFound",
    "ReasonRequired",
    "RefundExceedsCapture",
    "VersionConflict",
    "ZeroAmount",
]


class LedgerErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    INVALID_AMOUNT = "INVALID_AMOUNT"
    ZERO_AMOUNT = "ZERO_AMOUNT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID"
    HOLD_NOT_ACTIVE = "HOLD_NOT_ACTIVE"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    CAPTURE_EXCEEDS_HOLD = "CAPTURE_EXCEEDS_HOLD"
    CURRENCY_DISABLED = "CURRENCY_DISABLED"
    REASON_REQUIRED = "REASON_REQUIRED"
    BALANCE_LIMIT = "BALANCE_LIMIT"
    HOLD_NOT_CAPTURED = "HOLD_NOT_CAPTURED"
    REFUND_EXCEEDS_CAPTURE = "REFUND_EXCEEDS_CAPTURE"


class LedgerError(DomainError):
    pass


class InvalidAmount(LedgerError):
    code = LedgerErrorCode.INVALID_AMOUNT
    field = ("amount",)


class ZeroAmount(LedgerError):
    code = LedgerErrorCode.ZERO_AMOUNT
    field = ("amount",)


class InsufficientFunds(LedgerError):
    code = LedgerErrorCode.INSUFFICIENT_FUNDS
    field = ("amount",)


class VersionConflict(LedgerError):
    code = LedgerErrorCode.VERSION_CONFLICT
    field = ("expected_version",)


class IdempotencyConflict(LedgerError):
    code = LedgerErrorCode.IDEMPOTENCY_CONFLICT
    field = ("idempotency_key",)


class IdempotencyKeyInvalid(LedgerError):
    code = LedgerErrorCode.IDEMPOTENCY_KEY_INVALID
    field = ("idempotency_key",)


class HoldNotActive(LedgerError):
    code = LedgerErrorCode.HOLD_NOT_ACTIVE


class HoldExpired(LedgerError):
    code = LedgerErrorCode.HOLD_EXPIRED


class CaptureExceedsHold(LedgerError):
    code = LedgerErrorCode.CAPTURE_EXCEEDS_HOLD
    field = ("amount",)


class CurrencyDisabled(LedgerError):
    code = LedgerErrorCode.CURRENCY_DISABLED
    field = ("currency",)


class BalanceLimitReached(LedgerError):
    code = LedgerErrorCode.BALANCE_LIMIT
    field = ("amount",)


class HoldNotCaptured(LedgerError):
    code = LedgerErrorCode.HOLD_NOT_CAPTURED


class RefundExceedsCapture(LedgerError):
    code = LedgerErrorCode.REFUND_EXCEEDS_CAPTURE
    field = ("amount",)


class ReasonRequired(LedgerError):
    code = LedgerErrorCode.REASON_REQUIRED
    field = ("reason",)
