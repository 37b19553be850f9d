"""The WebViews in real headless Chromium (Debian's package, driven by Playwright).

The app runs as `loyalty-bff serve` on a free port; the test signs in the way the native
shell does (GraphQL, then the one-time URL) at a phone's 360x740 viewport. Screenshots of
every page land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import select

from bff.kernel.secrets import SecretBox
from bff.partners.models import OfferActivation
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import token
from tests.fixtures.marketplace import make_category, make_product
from tests.fixtures.partners import make_offer, make_partner
from tests.fixtures.webviews import CREATE

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("BFF_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
FAKE_IOS_BRIDGE = """
window.__bridge = [];
window.webkit = {messageHandlers: {loyalty: {
  postMessage: function (m) { window.__bridge.push(m); }
}}};
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(settings, db) -> Iterator[str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BFF_")},
        "BFF_DATABASE_URL": settings.database_url,
        "BFF_DATA_DIR": str(settings.data_dir),
        "BFF_DEV_AUTH": "1",
        "BFF_CATALOGUE_CACHE_SECONDS": "0",  # the test seeds rows behind the API's back
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bff", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(process.stderr.read().decode() if process.stderr else "no server")
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def chromium() -> str:
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class Watched:
    """Console errors and failed requests of a page: a clean page has neither."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _failed(self, request: Any) -> None:
        self.problems.append(f"failed: {request.url} {request.failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    async def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def one_time_url(base: str, settings, subject: str, path: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": {"path": path}},
            headers={"authorization": f"Bearer {token(settings, subject)}"},
        )
    return str(response.json()["data"]["webviewSessionCreate"]["url"])


@pytest.fixture
async def seeded(settings, db):
    partner = await make_partner(db, SecretBox.from_settings(settings), name="Coffee Bar")
    offer = await make_offer(db, partner, title="Free latte", reward_points=50)
    category = await make_category(db, "Pizza")
    await make_product(db, category, "Margherita")
    customer = await make_customer(db, "anna")
    for amount in (120, 30):
        await accrue(db, customer.id, amount)
    return offer


async def test_a_customer_browses_activates_and_sees_their_level(
    server, browser, settings, db, seeded
):
    context = await browser.new_context(viewport=PHONE, locale="en-US")
    page = await context.new_page()
    watched = Watched(page)

    await page.goto(await one_time_url(server, settings, "anna", "/webviews/offers"))
    assert page.url.endswith("/webviews/offers")
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["bff_webview"]["httpOnly"] is True
    assert await page.locator(".card h2").all_inner_texts() == ["Free latte"]
    await watched.shot("offers")

    await page.get_by_role("link", name="Free latte").click()
    await page.wait_for_url("**/webviews/offers/*")
    await watched.shot("offer")
    await page.get_by_role("button", name="Activate").click()
    await page.wait_for_url("**notice=activated")
    assert await page.get_by_role("button", name="Turn off").is_visible()
    assert await page.get_by_role("status").inner_text() == "The offer is activated."
    async with db.read() as session:
        active = await session.scalar(select(OfferActivation.active))
    assert active is True

    await page.get_by_role("link", name="Coffee Bar").click()
    await watched.shot("partner")
    for name, path in (
        ("marketplace", "/webviews/marketplace"),
        ("history", "/webviews/history"),
        ("rules", "/webviews/rules"),
    ):
        await page.goto(server + path)
        await watched.shot(name)
    await page.goto(server + "/webviews/history")
    assert await page.locator(".amount").all_inner_texts() == ["+30 points", "+120 points"]

    await page.goto(server + "/webviews/level")
    progress = page.locator("progress#progress")
    assert await progress.get_attribute("value") == "0"
    assert await page.get_by_label("5 more orders to Silver").count() == 1
    await watched.shot("level")

    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert watched.problems == []
    await context.close()


async def test_native_actions_reach_the_bridge(server, browser, settings, db, seeded):
    context = await browser.new_context(viewport=PHONE, locale="ru-RU")
    await context.add_init_script(FAKE_IOS_BRIDGE)
    page = await context.new_page()
    watched = Watched(page)
    await page.goto(await one_time_url(server, settings, "anna", "/webviews/offers"))
    assert await page.locator("html").get_attribute("lang") == "ru"

    await page.get_by_role("link", name="Профиль").click()
    messages = await page.evaluate("window.__bridge")
    assert messages == [{"action": "open", "payload": {"screen": "account"}}]
    assert page.url.endswith("/webviews/offers")  # the shell handles it; the page stays

    await page.get_by_role("link", name="Free latte").click()
    await page.get_by_role("button", name="Активировать").click()
    await page.wait_for_url("**notice=activated")
    messages = await page.evaluate("window.__bridge")
    assert {"action": "haptic", "payload": {"style": "success", "after": "activated"}} in messages
    await watched.shot("offer-ru")
    assert watched.problems == []
    await context.close()


async def test_a_reused_link_asks_the_shell_to_sign_in_again(server, browser, settings, db, seeded):
    url = await one_time_url(server, settings, "anna", "/webviews/level")
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 303  # somebody used it first
    context = await browser.new_context(viewport=PHONE)
    await context.add_init_script(FAKE_IOS_BRIDGE)
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None
    assert response.status == 401
    await page.get_by_role("link", name="Back to the app").click()
    messages = await page.evaluate("window.__bridge")
    assert messages == [{"action": "open", "payload": {"screen": "sign-in", "reason": "session"}}]
    await Watched(page).shot("expired")
    await context.close()
