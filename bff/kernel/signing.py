"""HMAC-SHA256 signatures of server-to-server requests (README, "Orders in").

``X-Timestamp`` is unix seconds; ``X-Signature`` is ``sha256=<hex>`` of
HMAC(secret, timestamp + "." + body). A timestamp more than the window away from now
is refused, so a captured request cannot be replayed later; event ids stop replays
inside the window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

PREFIX = "sha256="


class SignatureError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, window_seconds: int
) -> None:
    """Raise ``SignatureError`` unless the request is signed with ``secret`` and fresh."""
    if not secret:
        raise SignatureError("NOT_CONFIGURED", "no signing secret is configured for this sender")
    timestamp, signature = headers.get("x-timestamp"), headers.get("x-signature")
    if not timestamp or not signature:
        raise SignatureError("SIGNATURE_MISSING", "X-Timestamp and X-Signature are required")
    try:
        seconds = int(timestamp)
    except ValueError as error:
        raise SignatureError("TIMESTAMP_INVALID", "X-Timestamp must be unix seconds") from error
    if abs(now - seconds) > window_seconds:
        raise SignatureError(
            "TIMESTAMP_OUT_OF_WINDOW", f"X-Timestamp is more than {window_seconds} s away"
        )
    if not hmac.compare_digest(sign(secret, seconds, body), signature.strip()):
        raise SignatureError("SIGNATURE_INVALID", "the signature does not match the body")
