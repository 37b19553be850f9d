"""The spending domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, ErrorCode


class SpendingErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    INVALID_SHARE = "INVALID_SHARE"
    INVALID_POINT_VALUE = "INVALID_POINT_VALUE"
    INVALID_MONEY_MINIMUM = "INVALID_MONEY_MINIMUM"
    CURRENCY_DISABLED = "CURRENCY_DISABLED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    OVER_SPENDABLE = "OVER_SPENDABLE"
    PAYMENT_NOT_FOR_ORDER = "PAYMENT_NOT_FOR_ORDER"
    CHECKOUT_CODE_REFUSED = "CHECKOUT_CODE_REFUSED"
