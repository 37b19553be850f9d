"""Prometheus metrics, counted by any layer; served by ``bff.http.metrics``."""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram

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
QUEUE_SET_ASIDE = Counter(
    "bff_queue_rows_set_aside_total",
    "Queue rows set aside for staff: they failed for a reason retrying cannot fix.",
    ["queue"],
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


def count_set_aside(queue: str) -> None:
    QUEUE_SET_ASIDE.labels(queue).inc()


def observe_cost(cost: int) -> None:
    GRAPHQL_COST.observe(cost)
