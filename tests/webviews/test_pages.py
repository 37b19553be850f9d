"""WebView pages without a browser: the hand-off, templates and their context, actions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bff.app import create_app
from bff.kernel.types import utcnow
from bff.ledger.models import Wallet
from bff.marketplace.models import Redemption
from bff.partners.models import OfferActivation
from tests.fixtures.factories import accrue, hold, make_customer
from tests.fixtures.graphql import token
from tests.fixtures.marketplace import give_coins, make_category, make_product
from tests.fixtures.partners import make_offer, make_partner, offer_gid
from tests.fixtures.webviews import CREATE, one_time_url, sign_in
from webviews.models import WebviewSession


@pytest.fixture
def web_settings(settings):
    return replace(settings, webview_cookie_secure=False)  # the test client speaks http


@pytest.fixture
def web(web_settings, db) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings)) as client:
        yield client


@pytest.fixture
async def offer(db, web_settings):
    from bff.kernel.secrets import SecretBox

    partner = await make_partner(db, SecretBox.from_settings(web_settings), category="coffee")
    return await make_offer(db, partner, title="Free latte", reward_points=50)


async def count(db, model, *where) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


# --- hand-off --------------------------------------------------------------------------


async def test_the_one_time_url_signs_in_once(web, web_settings, db, offer):
    url = one_time_url(web, web_settings, "anna", "/webviews/offers")
    assert re.fullmatch(r"http://testserver/webviews/session/[A-Za-z0-9_\-]{40,}", url)
    landed = web.get(urlsplit(url).path, follow_redirects=False)
    assert landed.status_code == 303
    assert landed.headers["location"] == "/webviews/offers"
    cookie = landed.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/webviews" in cookie
    assert await count(db, WebviewSession) == 1

    web.cookies.clear()
    again = web.get(urlsplit(url).path, follow_redirects=False)
    assert again.status_code == 401
    assert again.template.name == "expired.html"
    assert "set-cookie" not in again.headers
    assert await count(db, WebviewSession) == 1


async def test_the_cookie_is_secure_unless_configured_otherwise(settings, db):
    with TestClient(create_app(settings)) as client:
        url = one_time_url(client, settings, "anna", "/webviews/level")
        landed = client.get(urlsplit(url).path, follow_redirects=False)
    assert "secure" in landed.headers["set-cookie"].lower()


async def test_an_expired_code_shows_the_friendly_page(web_settings, db):
    with TestClient(create_app(replace(web_settings, webview_code_seconds=0))) as client:
        url = one_time_url(client, web_settings, "anna", "/webviews/level")
        response = client.get(urlsplit(url).path, follow_redirects=False)
    assert response.status_code == 401
    assert response.template.name == "expired.html"
    assert 'data-bridge="open"' in response.text  # asks the shell to sign in again


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/x",
        "//evil.example",
        "/webviews/../graphql",
        "/graphql",
        "",
        "/webviews/a b",
        "/webviews/offers\n",
        "/webviews/offers?x=1\n",
    ],
)
async def test_only_paths_inside_the_webviews_are_accepted(web, web_settings, path):
    response = web.post(
        "/graphql",
        json={"query": CREATE, "variables": {"path": path}},
        headers={"authorization": f"Bearer {token(web_settings, 'anna')}"},
    )
    payload = response.json()["data"]["webviewSessionCreate"]
    assert payload["url"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["INVALID_PATH"]


async def test_only_a_signed_in_customer_gets_a_url(web):
    response = web.post("/graphql", json={"query": CREATE, "variables": {"path": "/webviews/x"}})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- pages -----------------------------------------------------------------------------


async def test_offer_feed_renders_the_offers_from_the_database(web, web_settings, db, offer):
    from bff.kernel.secrets import SecretBox

    other = await make_partner(
        db, SecretBox.from_settings(web_settings), code="tele", category="telecom"
    )
    await make_offer(db, other, title="Double minutes")
    response = web.get("/webviews/offers")
    assert response.template.name == "offers.html"
    feed = response.context["feed"]
    assert [card.title for card in feed.offers] == ["Free latte", "Double minutes"]
    assert feed.categories == [("coffee", "Coffee"), ("telecom", "Mobile and internet")]
    assert response.context["signed_in"] is False

    filtered = web.get("/webviews/offers", params={"category": "telecom"}).context["feed"]
    assert [card.title for card in filtered.offers] == ["Double minutes"]


async def test_activating_an_offer_changes_the_button_and_the_database(
    web, web_settings, db, offer
):
    sign_in(web, web_settings, "anna", f"/webviews/offers/{offer_gid(offer)}")
    page = web.get(f"/webviews/offers/{offer_gid(offer)}")
    assert page.template.name == "offer.html"
    assert page.context["offer"].active is False
    csrf = page.context["csrf"]
    assert 'value="activate"' in page.text

    done = web.post(
        f"/webviews/offers/{offer_gid(offer)}/activation",
        data={"csrf": csrf, "action": "activate"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("?notice=activated")
    assert await count(db, OfferActivation, OfferActivation.active.is_(True)) == 1
    after = web.get(done.headers["location"])
    assert after.context["offer"].active is True
    assert 'value="deactivate"' in after.text
    assert 'data-success="activated"' in after.text


async def test_actions_without_the_csrf_token_change_nothing(web, web_settings, db, offer):
    sign_in(web, web_settings, "anna", "/webviews/offers")
    for form in ({}, {"csrf": "forged", "action": "activate"}):
        response = web.post(
            f"/webviews/offers/{offer_gid(offer)}/activation", data=form, follow_redirects=False
        )
        assert response.status_code == 403
    web.cookies.clear()
    anonymous = web.post(
        f"/webviews/offers/{offer_gid(offer)}/activation",
        data={"csrf": "", "action": "activate"},
        follow_redirects=False,
    )
    assert anonymous.status_code == 403
    assert await count(db, OfferActivation) == 0


async def test_redeeming_a_gift_holds_its_price(web, web_settings, db):
    category = await make_category(db, "Pizza", price=100)
    product = await make_product(db, category, "Margherita")
    await give_coins(db, "anna", 150)
    sign_in(web, web_settings, "anna", "/webviews/marketplace")
    page = web.get("/webviews/marketplace")
    assert page.template.name == "marketplace.html"
    gift = page.context["shelves"][0].gifts[0]
    assert (gift.title, gift.available) == ("Margherita", True)
    form = {"csrf": page.context["csrf"], "product": str(product.id), "key": "k-1"}
    done = web.post("/webviews/marketplace/redeem", data=form, follow_redirects=False)
    assert done.headers["location"].endswith("notice=redeemed")
    again = web.post("/webviews/marketplace/redeem", data=form, follow_redirects=False)
    assert again.status_code == 303  # the same key: the first redemption, once
    assert await count(db, Redemption) == 1
    async with db.read() as session:
        held = await session.scalar(select(Wallet.held).where(Wallet.currency == "COINS"))
    assert held == 100

    poor = {**form, "key": "k-2"}
    refused = web.post("/webviews/marketplace/redeem", data=poor, follow_redirects=False)
    assert refused.status_code == 409
    assert refused.context["code"] == "INSUFFICIENT_FUNDS"


async def test_unavailable_gifts_are_greyed_with_the_reason(web, db):
    from bff.kernel.types import utcnow
    from bff.marketplace.models import StopListEntry

    category = await make_category(db)
    product = await make_product(db, category, "Diavola")
    async with db.unit_of_work() as session:
        session.add(
            StopListEntry(
                product_id=product.id,
                scope="*",
                reason="Sold out",
                created_by="t",
                created_at=utcnow(),
            )
        )
    page = web.get("/webviews/marketplace")
    gift = page.context["shelves"][0].gifts[0]
    assert (gift.available, gift.reason) == (False, "Not available right now")
    assert 'class="gift off"' in page.text


async def test_level_page_shows_progress_and_needs_a_session(web, web_settings, db):
    assert web.get("/webviews/level").status_code == 401
    sign_in(web, web_settings, "anna", "/webviews/level")
    page = web.get("/webviews/level")
    assert page.template.name == "level.html"
    level = page.context["level"]
    assert (level.code, level.next_name, level.to_go, level.percent) == ("BRONZE", "Silver", 5, 0)
    assert '<progress id="progress"' in page.text
    assert '<label for="progress">' in page.text


async def test_history_pages_through_the_ledger(web, web_settings, db):
    customer = await make_customer(db, "anna")
    for amount in range(1, 26):
        await accrue(db, customer.id, amount)
    sign_in(web, web_settings, "anna", "/webviews/history")
    first = web.get("/webviews/history")
    assert [e.delta for e in first.context["entries"]][:2] == [25, 24]
    assert len(first.context["entries"]) == 20
    more = first.context["more"]
    second = web.get("/webviews/history", params={"before": more})
    assert [e.delta for e in second.context["entries"]] == [5, 4, 3, 2, 1]
    assert second.context["more"] is None


async def test_held_points_read_as_reserved_not_as_plus_zero(web, web_settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 100)
    await hold(db, customer.id, 40)
    sign_in(web, web_settings, "anna", "/webviews/history")
    page = web.get("/webviews/history", headers={"accept-language": "ru"})
    assert not re.search(r"amount[^>]*>\+0 ", page.text)
    assert re.search(r"40 баллов зарезервировано", page.text), page.text


async def test_a_signed_out_page_asks_to_sign_in_rather_than_blaming_a_link(web, web_settings):
    for path in ("/webviews/level", "/webviews/history"):
        signed_out = web.get(path, headers={"accept-language": "ru"})
        assert signed_out.status_code == 401
        assert "Войдите, чтобы увидеть эту страницу" in signed_out.text
        assert "Ссылка устарела" not in signed_out.text
    web.cookies.set("bff_webview", "stale-session", path="/webviews")
    stale = web.get("/webviews/level", headers={"accept-language": "ru"})
    assert "Ссылка устарела" in stale.text


async def test_rules_are_public_and_speak_the_apps_language(web):
    english = web.get("/webviews/rules")
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    russian = web.get("/webviews/rules", headers={"accept-language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in russian.text
    assert "Правила программы" in russian.text
    chosen = web.get("/webviews/rules?lang=en", headers={"accept-language": "ru"})
    assert '<html lang="en">' in chosen.text
    assert 'href="/webviews/offers?lang=en"' in chosen.text  # links keep the app's choice


# --- quality bar -----------------------------------------------------------------------


async def test_pages_send_a_strict_csp_and_an_etag(web, offer):
    page = web.get("/webviews/offers")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in page.text  # no inline scripts at all
    assert not re.search(r"\son[a-z]+=", page.text)  # nor inline handlers
    etag = page.headers["etag"]
    cached = web.get("/webviews/offers", headers={"if-none-match": etag})
    assert cached.status_code == 304
    assert cached.content == b""


async def test_static_files_have_hashed_names_and_long_cache(web):
    page = web.get("/webviews/rules")
    names = re.findall(r"/webviews/static/[a-z]+\.[0-9a-f]{10}\.(?:css|js)", page.text)
    assert len(names) == 2
    for name in names:
        asset = web.get(name)
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert web.get("/webviews/static/app.css").status_code == 404  # only hashed names


async def test_a_page_with_its_css_and_js_weighs_under_60_kb(web, web_settings, db):
    from bff.kernel.secrets import SecretBox

    partner = await make_partner(db, SecretBox.from_settings(web_settings))
    for n in range(30):
        await make_offer(db, partner, title=f"Offer number {n}")
    page = web.get("/webviews/offers")
    assets = re.findall(r"/webviews/static/[a-z]+\.[0-9a-f]{10}\.(?:css|js)", page.text)
    total = len(page.content) + sum(len(web.get(a).content) for a in assets)
    assert total < 60 * 1024, total


async def test_unknown_offers_and_partners_are_not_found(web):
    assert web.get("/webviews/offers/nope").status_code == 404
    assert web.get("/webviews/partners/nobody").template.name == "not_found.html"


async def test_unpublished_offers_are_not_found(web, web_settings, db):
    from bff.kernel.secrets import SecretBox

    partner = await make_partner(db, SecretBox.from_settings(web_settings), category="coffee")
    inactive = await make_offer(db, partner, title="Draft", active=False)
    later = await make_offer(
        db, partner, title="Next year", valid_from=utcnow() + timedelta(days=365)
    )
    for offer in (inactive, later):
        assert web.get(f"/webviews/offers/{offer_gid(offer)}").status_code == 404


async def test_sessions_end(web_settings, db, offer):
    with TestClient(create_app(replace(web_settings, webview_session_seconds=0))) as client:
        sign_in(client, web_settings, "anna", "/webviews/level")
        assert client.get("/webviews/level").status_code == 401


async def test_expired_rows_can_be_forgotten(web, web_settings, db):
    from bff.kernel.types import utcnow
    from webviews.repository import WebviewRepository

    sign_in(web, web_settings, "anna", "/webviews/level")
    async with db.unit_of_work() as session:
        removed = await WebviewRepository(session).forget_expired(utcnow() + timedelta(days=1))
    assert removed == 2  # the used code and the session


async def test_postponing_decay_from_the_level_page(web, web_settings, db):
    from bff.kernel.types import utcnow
    from bff.levels.models import CustomerLevel

    customer = await make_customer(db, "anna")
    now = utcnow()
    async with db.unit_of_work() as session:
        session.add(
            CustomerLevel(
                customer_id=customer.id,
                level_code="SILVER",
                completed_orders=6,
                last_order_at=now - timedelta(days=3),
                level_since=now - timedelta(days=10),
                version=0,
                updated_at=now,
            )
        )
    sign_in(web, web_settings, "anna", "/webviews/level")
    page = web.get("/webviews/level")
    level = page.context["level"]
    assert (level.code, level.can_postpone, level.percent) == ("SILVER", True, 10)
    before = level.decay_at
    form = {"csrf": page.context["csrf"]}
    done = web.post("/webviews/level/postpone", data=form, follow_redirects=False)
    assert done.headers["location"].endswith("notice=postponed")
    after = web.get(done.headers["location"]).context["level"]
    assert after.decay_at == before + timedelta(days=30)
    assert after.can_postpone is False
    again = web.post("/webviews/level/postpone", data=form, follow_redirects=False)
    assert again.status_code == 409
    assert again.context["code"] == "ALREADY_POSTPONED"


async def test_pictures_come_only_from_the_configured_image_hosts(web_settings, db):
    from bff.kernel.secrets import SecretBox

    settings = replace(web_settings, webview_image_hosts="https://cdn.example.com")
    box = SecretBox.from_settings(settings)
    allowed = await make_partner(
        db, box, code="cdn", logo_url="https://cdn.example.com/logos/cdn.png"
    )
    elsewhere = await make_partner(
        db, box, code="other", name="Zebra", logo_url="https://tracker.example.net/z.png"
    )
    await make_offer(db, allowed, title="From the CDN")
    await make_offer(db, elsewhere, title="From elsewhere")
    with TestClient(create_app(settings)) as client:
        page = client.get("/webviews/offers")
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://cdn.example.com;" in csp
    assert '<img class="logo" src="https://cdn.example.com/logos/cdn.png"' in page.text
    assert "tracker.example.net" not in page.text  # never requested: the initial instead
    assert '<span class="badge" aria-hidden="true">Z</span>' in page.text


async def test_a_signed_in_page_carries_the_balance_and_marks_its_tab(web, web_settings, db):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 1_000)
    sign_in(web, web_settings, "anna", "/webviews/history")
    page = web.get("/webviews/history?lang=ru")
    header = page.context["header"]
    assert header.balances == [("POINTS", 1_000), ("COINS", 0)]
    assert "1\u00a0000 баллов" in page.text
    assert '<a href="/webviews/history?lang=ru" aria-current="page">' in page.text
