"""The levels domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import ErrorCode


class LevelErrorCode(ErrorCode):
    NOTHING_TO_POSTPONE = "NOTHING_TO_POSTPONE"
    ALREADY_POSTPONED = "ALREADY_POSTPONED"
