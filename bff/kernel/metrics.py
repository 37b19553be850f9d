"""Prometheus metrics. With several worker processes set ``PROMETHEUS_MULTIPROC_DIR``
(an empty, writable folder) and every process's samples are merged on scrape."""

from __future__ import annotations

import os
import re
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 500

GRAPHQL_REQUESTS = Counter(
    "bff_graphql_operations_total",
    "GraphQL operations by operation name and outcome.",
    ["operation", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "bff_graphql_operation_seconds",
    "GraphQL operation latency by operation name.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_COST = Histogram(
    "bff_graphql_operation_cost",
    "Calculated cost of GraphQL operations (bff.graphql.cost), refused ones included.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 100000),
)
PERSISTED_NOT_KEPT = Counter(
    "bff_persisted_queries_not_kept_total",
    "Documents apps sent to register that were run but not kept: a storage budget was spent.",
    ["budget"],
)
HTTP_REQUESTS = Counter(
    "bff_http_requests_total", "HTTP requests by route and status.", ["route", "status"]
)
HTTP_LATENCY = Histogram(
    "bff_http_request_seconds", "HTTP latency by route.", ["route"], buckets=_LATENCY_BUCKETS
)

_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    """Client-chosen names are bounded so a hostile client cannot explode the series count."""
    if not name:
        return "anonymous"
    if not _OPERATION_NAME.match(name):
        return "invalid"
    if name not in _seen_operations:
        if len(_seen_operations) >= MAX_OPERATION_LABELS:
            return "other"
        _seen_operations.add(name)
    return name


def observe_operation(name: str | None, seconds: float, *, failed: bool) -> None:
    label = operation_label(name)
    GRAPHQL_REQUESTS.labels(label, "error" if failed else "ok").inc()
    GRAPHQL_LATENCY.labels(label).observe(seconds)


def count_persisted_query_not_kept(budget: str) -> None:
    PERSISTED_NOT_KEPT.labels(budget).inc()


def observe_cost(cost: int) -> None:
    GRAPHQL_COST.observe(cost)


class HttpMetricsMiddleware:
    """Counts requests by route template (never by raw path: ids would explode series)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(label, str(status)).inc()
            HTTP_LATENCY.labels(label).observe(time.perf_counter() - started)


async def metrics_endpoint(_request: Request) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
