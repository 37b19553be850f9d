"""The HTTP client under firebase-admin: tokens refreshed once when FCM rejects them, and
network failures turned into answers that delivery retries."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from typing import Any

import google.auth.credentials
import httpx
import pytest

from push import sender as sender_module
from push.fcm_client import FcmHttpClient
from push.sender import LOCAL_TOKEN, Sender, registration_message
from tests.fixtures.fcm import PROJECT


class _Rotating(google.auth.credentials.Credentials):
    """Starts with a token FCM refuses; each refresh hands out the next of ``tokens``."""

    def __init__(self, *tokens: str) -> None:
        super().__init__()
        self.token = "revoked"
        self.upcoming = list(tokens)
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = self.upcoming.pop(0) if self.upcoming else "revoked"


def send_body(n: int) -> dict[str, Any]:
    return {"message": {"token": f"token-{n}", "notification": {"title": "Hi", "body": "x"}}}


async def test_a_rejected_token_is_refreshed_once_for_every_waiting_request(fcm):
    credential = _Rotating(LOCAL_TOKEN)
    client = FcmHttpClient(credential, timeout=10)
    url = fcm.url.format(PROJECT)
    try:
        answers = await asyncio.gather(
            *(client.request("post", url, headers={}, json=send_body(n)) for n in range(20))
        )
    finally:
        await client.aclose()
    assert [a.status_code for a in answers] == [200] * 20
    assert credential.refreshes == 1
    assert sorted(fcm.tokens()) == sorted(f"token-{n}" for n in range(20))


async def test_a_token_fcm_keeps_refusing_fails_after_two_refreshes(fcm):
    credential = _Rotating("still-wrong", "wrong-again", LOCAL_TOKEN)
    client = FcmHttpClient(credential, timeout=10)
    try:
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await client.request("post", fcm.url.format(PROJECT), headers={}, json=send_body(1))
    finally:
        await client.aclose()
    assert refused.value.response.status_code == 401
    assert credential.refreshes == 2
    assert fcm.tokens() == []


@pytest.fixture
def silent_url():
    """A server that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1/projects/{{0}}/messages:send"


async def test_no_answer_in_time_is_a_network_failure_to_retry(settings, silent_url, monkeypatch):
    monkeypatch.setattr(sender_module, "HTTP_TIMEOUT", 0.3)
    sender = Sender(replace(settings, fcm_project_id=PROJECT, fcm_url=silent_url))
    try:
        [outcome] = await sender.send([registration_message("t-1", "Hi", "x", {})], False)
    finally:
        await sender.close()
    assert (outcome.code, outcome.retry, outcome.sent) == ("NETWORK", True, False)


async def test_the_sdk_reads_fcm_errors_through_this_client(settings, fcm):
    fcm.fail("t-dead", "UNREGISTERED")
    fcm.fail("t-busy", "QUOTA_EXCEEDED")
    sender = Sender(replace(settings, fcm_project_id=PROJECT, fcm_url=fcm.url))
    try:
        outcomes = await sender.send(
            [registration_message(t, "Hi", "x", {}) for t in ("t-ok", "t-dead", "t-busy")], False
        )
    finally:
        await sender.close()
    assert [(o.sent, o.code, o.deactivate, o.quota) for o in outcomes] == [
        (True, None, False, False),
        (False, "UNREGISTERED", True, False),
        (False, "QUOTA_EXCEEDED", False, True),
    ]
    assert str(outcomes[0].name).startswith(f"projects/{PROJECT}/messages/")
