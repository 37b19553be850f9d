"""The partners domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, ErrorCode


class PartnerErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    CODE_TAKEN = "CODE_TAKEN"
    INVALID_CODE = "INVALID_CODE"
    INVALID_REWARD = "INVALID_REWARD"
    INVALID_WINDOW = "INVALID_WINDOW"
    OFFER_INACTIVE = "OFFER_INACTIVE"
    OFFER_NOT_STARTED = "OFFER_NOT_STARTED"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    OFFER_EXHAUSTED = "OFFER_EXHAUSTED"
    NOT_TARGETED = "NOT_TARGETED"
    ALREADY_ACTIVATED = "ALREADY_ACTIVATED"
    NOT_ACTIVATED = "NOT_ACTIVATED"
    LIMIT_REACHED = "LIMIT_REACHED"
