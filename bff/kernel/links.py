"""Links to pictures (partner logos, gift images): where they may point, and the
absolute form clients get."""

from __future__ import annotations

import re

# Pictures this service serves itself (the WebViews' static files), by path.
OWN_PICTURES = "/webviews/static/"
_OWN_PICTURE = re.compile(re.escape(OWN_PICTURES) + r"[A-Za-z0-9._-]{1,200}")
MAX_LINK = 500


def is_picture_link(url: str) -> bool:
    """An HTTPS URL (a WebView served over HTTPS cannot show anything else), or one of
    this service's own static files."""
    if not 0 < len(url) <= MAX_LINK or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    return url.startswith("https://") or _OWN_PICTURE.fullmatch(url) is not None


def absolute_link(base_url: str, url: str | None) -> str | None:
    """``url`` as a native app can load it: this service's own paths on ``base_url``."""
    if url is None or not url.startswith("/"):
        return url
    return base_url.rstrip("/") + url
