"""The push domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, ErrorCode


class PushErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code)
    INVALID_TIMEZONE = "INVALID_TIMEZONE"
    INVALID_RULE = "INVALID_RULE"
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    INVALID_CAMPAIGN = "INVALID_CAMPAIGN"
    NAME_TAKEN = "NAME_TAKEN"
