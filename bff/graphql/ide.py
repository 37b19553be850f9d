"""GraphiQL, served from files shipped in the package (graphiql, React; pinned, with their
licences in ide_assets/THIRD_PARTY_LICENSES.txt): it loads nothing from another host, so it
works on a machine without internet and under a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bff.kernel.assets import Assets

FOLDER = Path(__file__).parent / "ide_assets"
PREFIX = "/graphql/ide/"
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "ide.js")
# GraphiQL sets styles on elements and draws icons as data: URLs.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def ide_assets() -> Assets:
    return Assets(FOLDER, PREFIX)


def ide_page(assets: Assets) -> HTMLResponse:
    scripts = "\n".join(f'<script src="{assets.url(name)}"></script>' for name in SCRIPTS)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>loyalty-bff GraphiQL</title>
<link rel="stylesheet" href="{assets.url("graphiql.min.css")}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
{scripts}
</body>
</html>
"""
    return HTMLResponse(html, headers={"Content-Security-Policy": POLICY})


async def ide_file(request: Request) -> Response:
    assets: Assets = request.app.state.ide_assets
    return assets.response(request)
