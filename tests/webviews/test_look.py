"""Every WebView page as a designer checks it: in both languages and both themes at a
phone's 360x740, with a screenshot of each (test-artifacts/screenshots/look/), axe-core's
accessibility rules, no horizontal scrolling, and not a word of English on a Russian page.

The pages show the demo data (`make run`'s): partners with logos, offers, a gift shelf with
a stop-listed gift, a history in both currencies and a level with progress.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from bff.customers.repository import CustomerRepository
from bff.demo import DEMO_CUSTOMER, load_demo
from bff.kernel.formatting import amount
from bff.kernel.global_ids import encode_id
from bff.kernel.secrets import SecretBox
from bff.ledger.repository import LedgerRepository
from bff.partners.repository import PartnerRepository
from tests.webviews import test_browser as shared
from tests.webviews.test_browser import PHONE, Watched, one_time_url

# The browser tests' fixtures: the app served on a free port, and Chromium.
server, browser, chromium = shared.server, shared.browser, shared.chromium

AXE = Path(__file__).parent / "vendor" / "axe-4.11.0.min.js"
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
BLOCKING = {"serious", "critical"}


@pytest.fixture
async def demo(settings, db) -> str:
    """The demo data; the id of an offer of the bank."""
    await load_demo(db, SecretBox.from_settings(settings))
    async with db.read() as session:
        offers = await PartnerRepository(session).offers_page(
            after_id=None, limit=1, partner_code="bank", category=None, active_at=None
        )
    return encode_id("Offer", offers[0].id)


def pages(offer_id: str) -> dict[str, str]:
    return {
        "offers": "/webviews/offers",
        "offers-bank": "/webviews/offers?category=bank",
        "offer": f"/webviews/offers/{offer_id}",
        "partner": "/webviews/partners/bank",
        "gifts": "/webviews/marketplace",
        "level": "/webviews/level",
        "cashback": "/webviews/cashback",
        "history": "/webviews/history",
        "rules": "/webviews/rules",
        "not-found": "/webviews/partners/nobody",
    }


async def axe_problems(page: Page) -> list[str]:
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


async def check_page(page: Page, lang: str) -> list[str]:
    """What a designer would send back about the page open in ``page``."""
    problems = [f"axe: {problem}" for problem in await axe_problems(page)]
    width = await page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"]:  # type: ignore[index]
        problems.append(f"scrolls sideways: {width}px")
    if lang == "ru":
        text = await page.evaluate("document.body.innerText")
        problems += [f"English on a Russian page: {word!r}" for word in LATIN_WORD.findall(text)]
    return problems


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_every_page_in_each_language_and_theme(
    server, browser: Browser, settings, demo, lang, theme
):
    context = await browser.new_context(
        viewport=PHONE, locale=lang, color_scheme=theme, bypass_csp=True
    )
    page = await context.new_page()
    watched = Watched(page)
    await page.goto(await one_time_url(server, settings, DEMO_CUSTOMER, "/webviews/offers"))
    found: dict[str, list[str]] = {}
    for name, path in pages(demo).items():
        await page.goto(f"{server}{path}{'&' if '?' in path else '?'}lang={lang}")
        await watched.shot(f"look/{name}-{lang}-{theme}")
        found[name] = await check_page(page, lang)
    # The not-found page answers 404 on purpose; the browser says so in its console.
    watched.problems = [p for p in watched.problems if "404" not in p]
    assert {name: problems for name, problems in found.items() if problems} == {}
    assert watched.problems == []
    await context.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_pages_of_a_signed_out_visitor(server, browser: Browser, demo, lang):
    context = await browser.new_context(viewport=PHONE, locale=lang, bypass_csp=True)
    page = await context.new_page()
    for name, path in (("offers", "/webviews/offers"), ("signed-out", "/webviews/level")):
        await page.goto(f"{server}{path}?lang={lang}")
        await Watched(page).shot(f"look/{name}-{lang}-signed-out")
        assert await check_page(page, lang) == []
    await context.close()


async def test_the_tab_bar_fits_320_pixels_and_marks_the_current_tab(
    server, browser: Browser, settings, demo
):
    context = await browser.new_context(viewport={"width": 320, "height": 640}, locale="ru")
    page = await context.new_page()
    await page.goto(await one_time_url(server, settings, DEMO_CUSTOMER, "/webviews/history"))
    tabs = page.locator("nav.tabs a")
    assert await tabs.all_inner_texts() == ["Акции", "Подарки", "Уровень", "История"]
    current = page.locator('nav.tabs a[aria-current="page"]')
    assert await current.all_inner_texts() == ["История"]
    clipped = await page.evaluate(
        """[...document.querySelectorAll('nav.tabs a span')]
             .filter(s => s.scrollWidth > s.clientWidth || s.getBoundingClientRect().right > 320)
             .map(s => s.textContent)"""
    )
    assert clipped == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await page.goto(f"{server}/webviews/marketplace")
    assert await current.all_inner_texts() == ["Подарки"]
    await context.close()


async def test_the_balance_header_shows_the_customers_wallets(
    server, browser: Browser, settings, db, demo
):
    async with db.read() as session:
        customer = await CustomerRepository(session).by_external_id(DEMO_CUSTOMER)
        assert customer is not None
        wallets = await LedgerRepository(session).wallets_by_customer_ids([customer.id])
    available = {w.currency: w.balance - w.held for w in wallets}
    context = await browser.new_context(viewport=PHONE, locale="ru")
    page = await context.new_page()
    await page.goto(await one_time_url(server, settings, DEMO_CUSTOMER, "/webviews/rules"))
    balance = page.get_by_role("region", name="Ваш баланс")
    assert await balance.locator("li span").all_inner_texts() == ["Баллы", "Монеты"]
    assert await balance.locator("li strong").all_inner_texts() == [
        amount(available["POINTS"], "POINTS", "ru"),
        amount(available["COINS"], "COINS", "ru"),
    ]
    assert await balance.get_by_role("link").inner_text() == "Серебро"  # six orders
    await context.close()


async def test_the_accessibility_check_finds_what_it_looks_for(server, browser: Browser, demo):
    """The same check on a page spoiled on purpose: a picture and a button with no name."""
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{server}/webviews/rules")
    await page.evaluate(
        """document.querySelector('main').insertAdjacentHTML('beforeend',
             '<img src="data:,"><button></button>')"""
    )
    problems = await axe_problems(page)
    assert any(p.startswith("image-alt (critical)") for p in problems), problems
    assert any(p.startswith("button-name (critical)") for p in problems), problems
    await context.close()
