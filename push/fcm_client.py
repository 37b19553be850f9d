"""The HTTP client firebase-admin's messaging service sends through, on aiohttp.

firebase-admin still builds and encodes every message, names the URL and headers, and
turns every answer and error into its own exceptions; this client only moves the bytes.
Its own client (httpx with an auth flow, cookie jar, redirects and a retry transport)
costs about 1.2 ms of CPU per message here, this one about 0.4 ms, which is what lets one
worker send 800 messages a second. FCM takes HTTP/1.1 as well as HTTP/2; ``BFF_FCM_HTTP2``
goes back to the SDK's own client.

It answers what the service asks of ``_http_client.HttpxAsyncClient``: ``request`` returns
an ``httpx.Response`` or raises an ``httpx.HTTPError``, and ``aclose``. A 500 or 503 is not
retried here: delivery retries UNAVAILABLE later with its own backoff.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import google.auth.credentials
import google.auth.transport.requests
import httpx
from firebase_admin import _http_client

CONNECTIONS = 100
AUTH_REFRESHES = 2  # as the SDK: after a 401, refresh the token and try again, twice at most


class FcmHttpClient:
    """aiohttp's keep-alive pool, opened in the event loop that first sends."""

    def __init__(self, credential: google.auth.credentials.Credentials, timeout: float) -> None:
        self._credential = credential
        self._token_transport = google.auth.transport.requests.Request()
        self._refreshing = asyncio.Lock()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self, method: str, url: str, *, headers: dict[str, str], json: Any
    ) -> httpx.Response:
        body = _dumps(json)
        rejected: str | None = None
        for _ in range(AUTH_REFRESHES + 1):
            sent = {**_http_client.METRICS_HEADERS, **headers, **_JSON}
            used = await self._authorize(sent, rejected)
            response = await self._exchange(method, url, sent, body)
            if response.status_code != 401:
                break
            rejected = used
        return response.raise_for_status()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _authorize(self, headers: dict[str, str], rejected: str | None) -> str:
        """Put the token in ``headers`` and return it. An expired or ``rejected`` token is
        refreshed in a thread (a blocking HTTP call), once for every request waiting."""

        def stale() -> bool:
            return not self._credential.valid or self._credential.token == rejected

        if stale():
            async with self._refreshing:
                if stale():
                    await asyncio.to_thread(self._credential.refresh, self._token_transport)
        token = str(self._credential.token)
        self._credential.apply(headers, token)  # type: ignore[no-untyped-call]
        return token

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=CONNECTIONS)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        request = httpx.Request(method, url)
        try:
            async with self._session.request(method, url, data=body, headers=headers) as answer:
                content = await answer.read()
        except TimeoutError as error:
            raise httpx.TimeoutException(str(error) or "timed out", request=request) from error
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        except aiohttp.ClientError as error:
            raise httpx.TransportError(
                str(error) or type(error).__name__, request=request
            ) from error
        return httpx.Response(
            answer.status, headers=answer.raw_headers, content=content, request=request
        )


_JSON = {"content-type": "application/json"}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
