"""The WebViews' static files (stylesheet, bridge script, pictures), content-hashed."""

from __future__ import annotations

from pathlib import Path

from bff.kernel.assets import Assets
from bff.kernel.links import OWN_PICTURES

STATIC = Path(__file__).parent / "static"


def webview_assets() -> Assets:
    return Assets(STATIC, OWN_PICTURES)
