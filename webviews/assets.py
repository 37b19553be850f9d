"""The WebViews' static files (stylesheet, bridge script, pictures), content-hashed."""

from __future__ import annotations

from pathlib import Path

from bff.kernel.assets import Assets

STATIC = Path(__file__).parent / "static"
PREFIX = "/webviews/static/"


def webview_assets() -> Assets:
    return Assets(STATIC, PREFIX)
