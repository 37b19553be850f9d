"""The real firebase-admin client, pointed at FCM or (for tests and benchmarks) at a local
server that speaks the FCM HTTP v1 API.

``_MessagingService.FCM_URL`` is read when the app's messaging service is first built, so
it is set before that (DESIGN.md). ``send_each_async`` binds its HTTP client to the event
loop that first uses it: build one sender per loop.
"""

from __future__ import annotations

import asyncio
import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import firebase_admin
import google.auth.credentials
from firebase_admin import credentials, exceptions, messaging

from bff.config import Settings

MAX_BATCH = 500  # send_each's own limit
DEFAULT_SDK_RETRIES = 4
LANE_CHUNK = 2
LOCAL_TOKEN = "local-fcm"  # noqa: S105 (not a secret: what a local FCM server accepts)
_names = itertools.count()


class _StaticToken(google.auth.credentials.Credentials):
    """For a local FCM server: a bearer token that needs no network to obtain."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = LOCAL_TOKEN

    def refresh(self, request: Any) -> None:
        self.token = LOCAL_TOKEN


class _LocalCredential(credentials.Base):  # type: ignore[misc]
    def get_credential(self) -> google.auth.credentials.Credentials:
        return _StaticToken()


@dataclass(frozen=True)
class Outcome:
    """What FCM said about one message."""

    name: str | None = None  # FCM's message name on success
    code: str | None = None  # e.g. UNREGISTERED, UNAVAILABLE, QUOTA_EXCEEDED
    deactivate: bool = False  # the token is dead
    retry: bool = False  # try again later
    quota: bool = False  # slow the whole campaign down

    @property
    def sent(self) -> bool:
        return self.name is not None


def outcome_of(error: Exception | None, name: str | None) -> Outcome:
    if error is None:
        return Outcome(name=name)
    if isinstance(error, messaging.UnregisteredError):
        return Outcome(code="UNREGISTERED", deactivate=True)
    if isinstance(error, messaging.SenderIdMismatchError):
        return Outcome(code="SENDER_ID_MISMATCH", deactivate=True)
    if isinstance(error, exceptions.InvalidArgumentError):
        return Outcome(code="INVALID_ARGUMENT", deactivate=True)
    if isinstance(error, messaging.QuotaExceededError):
        return Outcome(code="QUOTA_EXCEEDED", retry=True, quota=True)
    if isinstance(error, exceptions.UnavailableError | exceptions.InternalError):
        return Outcome(code="UNAVAILABLE", retry=True)
    if isinstance(error, exceptions.UnknownError | exceptions.DeadlineExceededError):
        return Outcome(code="NETWORK", retry=True)  # no answer at all: try again later
    code = getattr(error, "code", None) or type(error).__name__
    return Outcome(code=str(code).upper()[:64])


def _set_sdk_retries(app: Any, retries: int) -> None:
    """The SDK retries 500/503 itself (4 times, backoff from 0.5 s) before we see
    UNAVAILABLE; there is no public option, so rebuild its async client."""
    from firebase_admin import _http_client, _retry

    service = messaging._get_messaging_service(app)
    service._async_client = _http_client.HttpxAsyncClient(
        credential=service._credential,
        timeout=30,
        retry_config=_retry.HttpxRetry(
            max_retries=retries, status_forcelist=[500, 503], backoff_factor=0.5
        ),
    )


class Sender:
    """``send(messages, dry_run)`` through firebase-admin.

    httpx's connection pool slows down sharply with many requests in flight on one client
    (500 at once: about 350 messages/s here), so a batch is spread over ``lanes`` apps,
    each with its own client, sending ``LANE_CHUNK`` messages at a time (about 900/s).
    """

    def __init__(self, settings: Settings) -> None:
        if settings.fcm_url:
            messaging._MessagingService.FCM_URL = settings.fcm_url
        self.apps = [self._app(settings) for _ in range(max(1, settings.fcm_lanes))]

    @staticmethod
    def _app(settings: Settings) -> Any:
        credential: credentials.Base = (
            credentials.Certificate(settings.fcm_credentials)
            if settings.fcm_credentials
            else _LocalCredential()
        )
        options = {"projectId": settings.fcm_project_id, "httpTimeout": 30}
        app = firebase_admin.initialize_app(credential, options, name=f"bff-push-{next(_names)}")
        if settings.fcm_sdk_retries != DEFAULT_SDK_RETRIES:
            _set_sdk_retries(app, settings.fcm_sdk_retries)
        return app

    async def send(self, batch: list[messaging.Message], dry_run: bool) -> list[Outcome]:
        if not batch:
            return []
        assert len(batch) <= MAX_BATCH
        lanes = len(self.apps)
        found: list[Outcome | None] = [None] * len(batch)

        async def lane(number: int) -> None:
            positions = list(range(number, len(batch), lanes))
            for start in range(0, len(positions), LANE_CHUNK):
                chunk = positions[start : start + LANE_CHUNK]
                answer = await messaging.send_each_async(
                    [batch[i] for i in chunk], dry_run=dry_run, app=self.apps[number]
                )
                for i, response in zip(chunk, answer.responses, strict=True):
                    found[i] = outcome_of(response.exception, response.message_id)

        await asyncio.gather(*(lane(n) for n in range(min(lanes, len(batch)))))
        return [outcome for outcome in found if outcome is not None]

    async def close(self) -> None:
        """Close each HTTP client in this loop, then the apps (whose own cleanup runs
        ``asyncio.run`` and so must not run in this loop)."""
        for app in self.apps:
            await messaging._get_messaging_service(app)._async_client.aclose()
            await asyncio.to_thread(firebase_admin.delete_app, app)


def registration_message(
    token: str, title: str, body: str, data: dict[str, str]
) -> messaging.Message:
    """A message to a registration token: what mobile SDKs hand out, although
    firebase-admin 7.5+ warns that ``token`` is deprecated in favour of ``fid``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(
            token=token, notification=messaging.Notification(title=title, body=body), data=data
        )


def configured(settings: Settings) -> bool:
    """Pushes go out only with a project and either real credentials or a local server."""
    return bool(settings.fcm_project_id and (settings.fcm_credentials or settings.fcm_url))
