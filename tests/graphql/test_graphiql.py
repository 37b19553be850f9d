"""GraphiQL in real headless Chromium, with every request to another host refused: it must
load from the service alone, take a token in its headers tab and show the answer."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.fixtures.graphql import token
from tests.webviews.test_browser import Watched, browser, chromium, server  # noqa: F401

QUERY = "{ me { externalId } }"


async def test_graphiql_works_offline_and_sends_the_token(server, browser, settings):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    foreign: list[str] = []

    async def this_server_only(route):
        if route.request.url.startswith(server):
            await route.continue_()
        else:
            foreign.append(route.request.url)
            await route.abort()

    await context.route("**/*", this_server_only)
    page = await context.new_page()
    watched = Watched(page)
    headers = json.dumps({"Authorization": f"Bearer {token(settings, 'anna')}"})
    response = await page.goto(
        f"{server}/graphql#" + urlencode({"query": QUERY, "headers": headers})
    )
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.wait_for_selector(".graphiql-container")
    await page.click(".graphiql-execute-button")
    await page.locator(".result-window", has_text="anna").wait_for(timeout=10_000)
    answer = await page.inner_text(".result-window")
    assert '"externalId": "anna"' in answer
    await watched.shot("graphiql")
    assert foreign == []
    assert watched.problems == []
    await context.close()
