"""WebView endpoints: the session hand-off, the pages and their form actions.

Pages answer with ``Content-Security-Policy`` (no inline scripts, nothing from other
hosts), an ``ETag`` and ``Cache-Control: private, no-cache``. Forms post with the
session's CSRF token and redirect back (post/redirect/get) with a notice.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bff.kernel import formatting
from bff.kernel.assets import Assets
from bff.kernel.errors import DomainError
from bff.kernel.etags import conditional
from bff.kernel.global_ids import decode_typed_id
from bff.kernel.i18n import SUPPORTED, message, negotiate_locale
from bff.kernel.links import OWN_PICTURES
from bff.ledger.reasons import entry_reason
from webviews import pages
from webviews.models import WebviewSession
from webviews.service import PREFIX, WebviewSessions
from webviews.strings import translator

COOKIE = "bff_webview"


@cache
def content_security_policy(image_hosts: tuple[str, ...]) -> str:
    """Nothing from other hosts but pictures from the configured image hosts: pictures
    load straight from the catalogue's CDN, which already caches and resizes them."""
    images = " ".join(("'self'", "data:", *image_hosts))
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def picture_maker(image_hosts: tuple[str, ...]) -> Callable[[str | None], str | None]:
    """A picture link the page may show (the service's own file, or on an image host),
    else None: the page shows an initial instead of a picture the policy would block."""

    def picture(url: str | None) -> str | None:
        if url is None:
            return None
        if url.startswith(OWN_PICTURES) or any(url.startswith(h + "/") for h in image_hosts):
            return url
        return None

    return picture


NOTICES = {"activated", "deactivated", "redeemed", "postponed"}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.PackageLoader("webviews", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
)


def locale_of(request: Request) -> str:
    """The app's locale (``?lang=``) wins over ``Accept-Language``."""
    asked = request.query_params.get("lang", "")
    return asked if asked in SUPPORTED else negotiate_locale(request.headers.get("accept-language"))


def sessions(request: Request, session: AsyncSession) -> WebviewSessions:
    return WebviewSessions.configured(session, request.app.state.settings)


async def current_session(request: Request) -> WebviewSession | None:
    async with request.app.state.db.read() as session:
        return await sessions(request, session).current(request.cookies.get(COOKIE))


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    signed_in: WebviewSession | None = None,
    status_code: int = 200,
) -> Response:
    locale = locale_of(request)
    assets: Assets = request.app.state.webview_assets
    notice = request.query_params.get("notice")
    full = {
        "header": None,
        "tab": None,
        "picture": picture_maker(request.app.state.settings.image_hosts),
        "lang": locale,
        "t": translator(locale),
        "asset": assets.url,
        "signed_in": signed_in is not None,
        "csrf": signed_in.csrf_token if signed_in else "",
        "notice": notice if notice in NOTICES else None,
        "date": formatting.date,
        "amount": lambda value, currency, signed=False: formatting.amount(
            value, currency, locale, signed=signed
        ),
        "number": lambda value: formatting.number(value, locale),
        "percent": lambda value: formatting.percent(value, locale),
        "reason": lambda entry: entry_reason(entry, locale),
        "url": link_maker(request),
        **context,
    }
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    return finish(request, response)


async def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    signed_in: WebviewSession | None,
    tab: str | None = None,
    status_code: int = 200,
) -> Response:
    """A page under the balance header (for a signed-in customer) and the tab bar, with
    ``tab`` marked as the current one."""
    top = None
    if signed_in is not None:
        state = request.app.state
        top = await pages.header(
            state.db, state.policies.levels, signed_in.customer_id, locale_of(request)
        )
    full = {**context, "header": top, "tab": tab}
    return render(request, name, full, signed_in=signed_in, status_code=status_code)


def link_maker(request: Request) -> Callable[..., str]:
    """Links that keep the app's ``?lang=`` choice."""
    lang = request.query_params.get("lang")
    kept = {"lang": lang} if lang in SUPPORTED else {}

    def url(path: str, **query: object) -> str:
        params = {**{k: str(v) for k, v in query.items()}, **kept}
        return f"{path}?{urlencode(params)}" if params else path

    return url


def finish(request: Request, response: Response) -> Response:
    """Security headers on every page, and 304 when the client has this exact page."""
    headers = {
        "Content-Security-Policy": content_security_policy(request.app.state.settings.image_hosts),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "private, no-cache",
        "Vary": "Cookie, Accept-Language",
    }
    if response.status_code == 200:
        return conditional(response, request.headers.get("if-none-match"), headers)
    response.headers.update(headers)
    return response


def expired(request: Request, key: str = "expired", status_code: int = 401) -> Response:
    """Sign in again (``key`` picks the words)."""
    return render(request, "expired.html", {"key": key}, status_code=status_code)


def sign_in_first(request: Request) -> Response:
    """A page of the customer's own without a session: signed out (no session cookie at
    all), or the session expired."""
    return expired(request, "signed_out" if COOKIE not in request.cookies else "expired")


async def not_found(request: Request, signed_in: WebviewSession | None) -> Response:
    return await page(request, "not_found.html", {}, signed_in=signed_in, status_code=404)


# --- hand-off -------------------------------------------------------------------------


async def open_session(request: Request) -> Response:
    """The one-time URL: set the session cookie and land on the page asked for."""
    async with request.app.state.db.unit_of_work() as session:
        opened = await sessions(request, session).open(request.path_params["code"])
    if opened is None:
        return expired(request)
    response = RedirectResponse(opened.path, status_code=303)
    response.set_cookie(
        COOKIE,
        opened.token,
        max_age=request.app.state.settings.webview_session_seconds,
        path=PREFIX.rstrip("/"),
        secure=request.app.state.settings.webview_cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- pages ----------------------------------------------------------------------------


async def offers_page(request: Request) -> Response:
    signed_in = await current_session(request)
    state = request.app.state
    customer_id = signed_in.customer_id if signed_in else None
    category = request.query_params.get("category") or None
    feed = await pages.offer_feed(
        state.db, state.catalogue, customer_id, category, locale_of(request)
    )
    return await page(request, "offers.html", {"feed": feed}, signed_in=signed_in, tab="offers")


async def offer_page(request: Request) -> Response:
    signed_in = await current_session(request)
    offer_pk = decode_typed_id(request.path_params["offer_id"], "Offer")
    card = None
    if offer_pk is not None:
        customer = signed_in.customer_id if signed_in else None
        card = await pages.offer_detail(
            request.app.state.db, offer_pk, customer, locale_of(request)
        )
    if card is None:
        return await not_found(request, signed_in)
    return await page(request, "offer.html", {"offer": card}, signed_in=signed_in, tab="offers")


async def partner_page(request: Request) -> Response:
    signed_in = await current_session(request)
    customer = signed_in.customer_id if signed_in else None
    code = request.path_params["code"]
    found = await pages.partner_page(request.app.state.db, code, customer, locale_of(request))
    if found is None:
        return await not_found(request, signed_in)
    partner, offers = found
    context = {"partner": partner, "offers": offers}
    return await page(request, "partner.html", context, signed_in=signed_in, tab="offers")


async def marketplace_page(request: Request) -> Response:
    signed_in = await current_session(request)
    db = request.app.state.db
    city = await pages.customer_city(db, signed_in.customer_id if signed_in else None)
    shelves = await pages.marketplace(db, city, locale_of(request))
    context = {"shelves": shelves, "key": uuid.uuid4().hex, "error": None}
    return await page(request, "marketplace.html", context, signed_in=signed_in, tab="gifts")


async def level_page(request: Request) -> Response:
    signed_in = await current_session(request)
    if signed_in is None:
        return sign_in_first(request)
    state = request.app.state
    locale = locale_of(request)
    view = await pages.level_view(state.db, state.policies.levels, signed_in.customer_id, locale)
    brands, step = await pages.cashback_view(
        state.db, state.policies.levels, signed_in.customer_id, locale
    )
    context = {"level": view, "brands": brands, "step": step}
    return await page(request, "level.html", context, signed_in=signed_in, tab="level")


async def cashback_page(request: Request) -> Response:
    signed_in = await current_session(request)
    if signed_in is None:
        return sign_in_first(request)
    state = request.app.state
    brands, step = await pages.cashback_view(
        state.db, state.policies.levels, signed_in.customer_id, locale_of(request)
    )
    context = {"brands": brands, "step": step}
    return await page(request, "cashback.html", context, signed_in=signed_in, tab="level")


async def history_page(request: Request) -> Response:
    signed_in = await current_session(request)
    if signed_in is None:
        return sign_in_first(request)
    before = request.query_params.get("before", "")
    before_id = int(before) if before.isdigit() else None
    entries, more = await pages.history(request.app.state.db, signed_in.customer_id, before_id)
    context = {"entries": entries, "more": more}
    return await page(request, "history.html", context, signed_in=signed_in, tab="history")


async def rules_page(request: Request) -> Response:
    return await page(request, "rules.html", {}, signed_in=await current_session(request))


# --- actions --------------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()  # bounded by bff.http.body_limit
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


async def _checked(request: Request) -> tuple[WebviewSession | None, dict[str, str]]:
    """The session and form of a POST whose CSRF token matches; else (None, form)."""
    signed_in = await current_session(request)
    form = await _form(request)
    token = form.get("csrf", "")
    if signed_in is None or not hmac.compare_digest(token, signed_in.csrf_token):
        return None, form
    return signed_in, form


def back(request: Request, path: str, **query: str) -> Response:
    lang = request.query_params.get("lang")
    params = {**query, **({"lang": lang} if lang in SUPPORTED else {})}
    target = f"{path}?{urlencode(params)}" if params else path
    return RedirectResponse(target, status_code=303)


async def refused(request: Request, error: DomainError, signed_in: WebviewSession) -> Response:
    text = message(error.code, locale_of(request), error.params)
    context = {"code": error.code, "text": text}
    return await page(request, "refused.html", context, signed_in=signed_in, status_code=409)


async def offer_activation(request: Request) -> Response:
    signed_in, form = await _checked(request)
    if signed_in is None:
        return forbidden(request)
    offer_pk = decode_typed_id(request.path_params["offer_id"], "Offer")
    if offer_pk is None:
        return await not_found(request, signed_in)
    on = form.get("action") != "deactivate"
    try:
        await pages.set_activation(request.app.state.db, signed_in.customer_id, offer_pk, on)
    except DomainError as error:
        return await refused(request, error, signed_in)
    notice = "activated" if on else "deactivated"
    return back(request, f"/webviews/offers/{request.path_params['offer_id']}", notice=notice)


async def redeem(request: Request) -> Response:
    signed_in, form = await _checked(request)
    if signed_in is None:
        return forbidden(request)
    product_pk = form.get("product", "")
    key = form.get("key", "")
    if not product_pk.isdigit() or not key:
        return await not_found(request, signed_in)
    state = request.app.state
    city = await pages.customer_city(state.db, signed_in.customer_id)
    try:
        await pages.redeem(
            state.db, state.settings, signed_in.customer_id, int(product_pk), key, city
        )
    except DomainError as error:
        return await refused(request, error, signed_in)
    return back(request, "/webviews/marketplace", notice="redeemed")


async def postpone(request: Request) -> Response:
    signed_in, _ = await _checked(request)
    if signed_in is None:
        return forbidden(request)
    state = request.app.state
    try:
        await pages.postpone(state.db, state.policies.levels, signed_in.customer_id)
    except DomainError as error:
        return await refused(request, error, signed_in)
    return back(request, "/webviews/level", notice="postponed")


def forbidden(request: Request) -> Response:
    """No session or a wrong CSRF token: nothing changes; the shell signs in again."""
    return expired(request, status_code=403)


async def static_file(request: Request) -> Response:
    assets: Assets = request.app.state.webview_assets
    return assets.response(request)


routes = [
    Route("/webviews/session/{code}", open_session, methods=["GET"]),
    Route("/webviews/offers", offers_page, methods=["GET"]),
    Route("/webviews/offers/{offer_id}", offer_page, methods=["GET"]),
    Route("/webviews/offers/{offer_id}/activation", offer_activation, methods=["POST"]),
    Route("/webviews/partners/{code}", partner_page, methods=["GET"]),
    Route("/webviews/marketplace", marketplace_page, methods=["GET"]),
    Route("/webviews/marketplace/redeem", redeem, methods=["POST"]),
    Route("/webviews/level", level_page, methods=["GET"]),
    Route("/webviews/level/postpone", postpone, methods=["POST"]),
    Route("/webviews/history", history_page, methods=["GET"]),
    Route("/webviews/cashback", cashback_page, methods=["GET"]),
    Route("/webviews/rules", rules_page, methods=["GET"]),
    Route("/webviews/static/{name}", static_file, methods=["GET"]),
]
