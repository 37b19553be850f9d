"""The earning domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, ErrorCode


class EarningErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    CODE_TAKEN = "CODE_TAKEN"
    INVALID_TRANSLATION = "INVALID_TRANSLATION"
    INVALID_CAP = "INVALID_CAP"
    INVALID_CODE = "INVALID_CODE"
    INVALID_RATE = "INVALID_RATE"
    INVALID_WINDOW = "INVALID_WINDOW"
    INVALID_EXPIRY = "INVALID_EXPIRY"
    CURRENCY_DISABLED = "CURRENCY_DISABLED"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    REFUND_EXCEEDS_ORDER = "REFUND_EXCEEDS_ORDER"
    ACCRUAL_OVER_LIMIT = "ACCRUAL_OVER_LIMIT"
