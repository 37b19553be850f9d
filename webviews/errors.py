"""The webviews domain's error codes: its GraphQL enum and messages derive from them."""

from __future__ import annotations

from bff.kernel.errors import ErrorCode


class WebviewErrorCode(ErrorCode):
    INVALID_PATH = "INVALID_PATH"
