"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from bff.customers.directory import CustomerDirectory
from bff.graphql.ide import ide_assets, ide_file
from bff.graphql.schema import build_schema
from bff.graphql.view import GraphQLView
from bff.http.body_limit import BodyLimit
from bff.http.checkout import checkout_capture, checkout_hold, checkout_quote, checkout_void
from bff.http.common import EXCEPTION_HANDLERS
from bff.http.health import healthz, readyz
from bff.http.levels import customer_level
from bff.http.metrics import HttpMetricsMiddleware, metrics_endpoint
from bff.http.openapi import openapi_document
from bff.http.orders import order_events
from bff.http.partners import hold_capture, hold_create, hold_refund, hold_void, partner_events
from bff.http.statements import partner_event_statement, partner_hold_statement
from bff.kernel.auth import TokenVerifier
from bff.kernel.catalogue import CatalogueCache, CatalogueListener, listener_dsn
from bff.kernel.config import Settings
from bff.kernel.db import Database, with_database_url
from bff.kernel.secrets import SecretBox
from bff.partners.directory import PartnerDirectory
from bff.persisted.service import Limits, Mode, PersistedQueries
from bff.policies import Policies
from push.sender import Sender
from push.sender import configured as push_configured
from webviews.assets import webview_assets
from webviews.routes import routes as webview_routes


def create_app(settings: Settings | None = None) -> Starlette:
    settings = with_database_url(settings or Settings.from_env())
    verifier = TokenVerifier(settings)  # fail at start, not on the first request

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings)
        app.state.db = db
        app.state.directory = CustomerDirectory(db)
        app.state.partners = PartnerDirectory(db, app.state.secret_box)
        app.state.persisted = PersistedQueries(
            db,
            Mode(settings.persisted_queries),
            Limits(
                document_bytes=settings.max_document_bytes,
                registered_total=settings.persisted_queries_max_registered,
                registered_per_period=settings.persisted_queries_max_registered_per_hour,
            ),
        )
        app.state.catalogue = catalogue = CatalogueCache(settings.catalogue_cache_seconds)
        db.after_catalogue_commit.append(catalogue.invalidate)
        listener = None
        if catalogue.ttl > 0:
            url = settings.database_listen_url or settings.database_url
            listener = CatalogueListener(listener_dsn(url), catalogue)
            await listener.start()
        app.state.push_sender = Sender(settings) if push_configured(settings) else None
        try:
            yield
        finally:
            if app.state.push_sender is not None:
                await app.state.push_sender.close()
            if listener is not None:
                await listener.stop()
            await db.dispose()

    graphql = GraphQLView(
        build_schema(settings),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
    )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *([Route("/graphql/ide/{name}", ide_file)] if settings.graphiql_enabled else []),
            Route("/api/orders/events", order_events, methods=["POST"]),
            Route("/api/checkout/quote", checkout_quote, methods=["POST"]),
            Route("/api/checkout/holds", checkout_hold, methods=["POST"]),
            Route("/api/checkout/holds/{hold_id}/capture", checkout_capture, methods=["POST"]),
            Route("/api/checkout/holds/{hold_id}/void", checkout_void, methods=["POST"]),
            Route("/api/customers/{external_id}/level", customer_level, methods=["GET"]),
            Route("/api/partners/{partner_code}/events", partner_events, methods=["POST"]),
            Route(
                "/api/partners/{partner_code}/events",
                partner_event_statement,
                methods=["GET"],
            ),
            Route("/api/partners/{partner_code}/holds", partner_hold_statement, methods=["GET"]),
            Route("/api/partners/{partner_code}/holds", hold_create, methods=["POST"]),
            Route(
                "/api/partners/{partner_code}/holds/{hold_id}/capture",
                hold_capture,
                methods=["POST"],
            ),
            Route("/api/partners/{partner_code}/holds/{hold_id}/void", hold_void, methods=["POST"]),
            Route(
                "/api/partners/{partner_code}/holds/{hold_id}/refund",
                hold_refund,
                methods=["POST"],
            ),
            Route("/api/openapi.json", openapi_document, methods=["GET"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *webview_routes,
        ],
        middleware=[Middleware(BodyLimit), Middleware(HttpMetricsMiddleware)],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.policies = Policies.from_settings(settings)
    app.state.verifier = verifier
    app.state.secret_box = SecretBox.from_settings(settings)
    app.state.webview_assets = webview_assets()
    # Hashing GraphiQL's few MiB is start-up work only where GraphiQL is served.
    app.state.ide_assets = ide_assets() if settings.graphiql_enabled else None
    return app


def app_factory() -> Starlette:
    """Entry point for uvicorn's ``--factory`` (settings come from the environment)."""
    return create_app()
