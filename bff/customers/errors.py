"""The customers domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import NOT_FOUND, ErrorCode


class CustomerErrorCode(ErrorCode):
    NOT_FOUND = NOT_FOUND
    DISPLAY_NAME_INVALID = "DISPLAY_NAME_INVALID"
    LOCALE_UNSUPPORTED = "LOCALE_UNSUPPORTED"
