"""Static files under content-hashed names, so they can be cached for a year."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

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
    """The files of ``folder`` at ``{prefix}{stem}.{hash}{suffix}``
    (``url("app.css")`` -> ``/webviews/static/app.3f2a9c1b0d.css``); read once at start."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.prefix = prefix
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
        return f"{self.prefix}{self._names[name]}"

    def get(self, hashed_name: str) -> Asset | None:
        return self._files.get(hashed_name)

    def response(self, request: Request) -> Response:
        """The file the route's ``{name}`` names, cached for good: its name changes with
        its content."""
        asset = self.get(request.path_params["name"])
        if asset is None:
            return Response("not found", status_code=404)
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )
