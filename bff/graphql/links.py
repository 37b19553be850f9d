"""Picture links as clients load them."""

from __future__ import annotations

from bff.graphql.context import Context
from bff.kernel.links import absolute_link

PICTURE = "URL of the picture: HTTPS, or a file of this service on its public URL; null: none."


def picture_url(context: Context, url: str | None) -> str | None:
    """``url`` made absolute on the service's public URL (where a native app finds the
    service's own files); the same for every request, so shared subtrees may keep it."""
    settings = context.settings
    return absolute_link(settings.public_url or f"http://{settings.host}:{settings.port}", url)
