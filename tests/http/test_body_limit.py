"""Bodies are bounded per route while they arrive: a declared length over the limit is
refused unread, and a chunked body as soon as it passes the limit."""

from __future__ import annotations

import json

import pytest

from bff.http.body_limit import FORM_LIMIT, GRAPHQL_LIMIT, PARTNER_EVENTS_LIMIT, SIGNED_LIMIT


def padded_query(size: int) -> bytes:
    body = {"query": "{ levels { code } }", "variables": {"pad": "x" * size}}
    return json.dumps(body).encode()


async def chunks(body: bytes, size: int = 16 * 1024):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_too_large(response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.json() == {
        "error": {"code": "TOO_LARGE", "message": f"bodies are limited to {limit} bytes"}
    }


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/graphql", GRAPHQL_LIMIT),
        ("/api/orders/events", SIGNED_LIMIT),
        ("/api/partners/bank/events", PARTNER_EVENTS_LIMIT),
        ("/api/partners/bank/holds", SIGNED_LIMIT),
        ("/webviews/level/postpone", FORM_LIMIT),
    ],
)
async def test_a_body_over_the_routes_limit_is_refused_declared_or_streamed(
    app_client, path, limit
):
    body = padded_query(limit)
    headers = {"content-type": "application/json"}
    declared = await app_client.post(path, content=body, headers=headers)
    assert_too_large(declared, limit)
    streamed = await app_client.post(path, content=chunks(body), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert_too_large(streamed, limit)


async def test_a_body_under_the_limit_goes_through(app_client):
    body = padded_query(GRAPHQL_LIMIT // 2)
    headers = {"content-type": "application/json"}
    for content in (body, chunks(body)):
        response = await app_client.post("/graphql", content=content, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["levels"]
