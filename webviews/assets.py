"""Static files under content-hashed names, so they can be cached for a year."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


class Assets:
    """``url("app.css")`` -> ``/webviews/static/app.3f2a9c1b0d.css``; read once at start."""

    def __init__(self, folder: Path = STATIC) -> None:
        self._names: dict[str, str] = {}
        self._files: dict[str, Asset] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix not in TYPES:
                continue
            body = path.read_bytes()
            hashed = f"{path.stem}.{hashlib.sha256(body).hexdigest()[:10]}{path.suffix}"
            self._names[path.name] = hashed
            self._files[hashed] = Asset(body, TYPES[path.suffix])

    def url(self, name: str) -> str:
        return f"/webviews/static/{self._names[name]}"

    def get(self, hashed_name: str) -> Asset | None:
        return self._files.get(hashed_name)
