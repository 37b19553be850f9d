"""The flags domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import ErrorCode


class FlagErrorCode(ErrorCode):
    INVALID_KEY = "INVALID_KEY"
    INVALID_ROLLOUT = "INVALID_ROLLOUT"
