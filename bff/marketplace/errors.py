"""The marketplace domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, ErrorCode
from bff.ledger.errors import LedgerErrorCode


class MarketplaceErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    # A redemption holds coins: the ledger's refusals surface as they are.
    INSUFFICIENT_FUNDS = LedgerErrorCode.INSUFFICIENT_FUNDS.value
    VERSION_CONFLICT = LedgerErrorCode.VERSION_CONFLICT.value
    IDEMPOTENCY_CONFLICT = LedgerErrorCode.IDEMPOTENCY_CONFLICT.value
    IDEMPOTENCY_KEY_INVALID = LedgerErrorCode.IDEMPOTENCY_KEY_INVALID.value
    CURRENCY_DISABLED = LedgerErrorCode.CURRENCY_DISABLED.value
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_TITLE = "INVALID_TITLE"
    INVALID_TRANSLATION = "INVALID_TRANSLATION"
    INVALID_REASON = "INVALID_REASON"
    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    INVALID_IMAGE_URL = "INVALID_IMAGE_URL"
