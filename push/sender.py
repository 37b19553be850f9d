"""The real firebase-admin client, pointed at FCM or (for tests and benchmarks) at a local
server that speaks the FCM HTTP v1 API.

``_MessagingService.FCM_URL`` is read when the app's messaging service is first built, so
it is set before that. ``send_each_async`` binds its HTTP client to the event
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

from bff.kernel.config import Settings
from push.fcm_client import FcmHttpClient

MAX_BATCH = 500  # send_each's own limit
HTTP_TIMEOUT = 30
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


class Sender:
    """``send(messages, dry_run)`` through firebase-admin's ``send_each_async``."""

    def __init__(self, settings: Settings) -> None:
        if settings.fcm_url:
            messaging._MessagingService.FCM_URL = settings.fcm_url
        credential: credentials.Base = (
            credentials.Certificate(settings.fcm_credentials)
            if settings.fcm_credentials
            else _LocalCredential()
        )
        options = {"projectId": settings.fcm_project_id, "httpTimeout": HTTP_TIMEOUT}
        self.app = firebase_admin.initialize_app(
            credential, options, name=f"bff-push-{next(_names)}"
        )
        if not settings.fcm_http2:
            service = messaging._get_messaging_service(self.app)
            service._async_client = FcmHttpClient(service._credential, timeout=HTTP_TIMEOUT)

    async def send(self, batch: list[messaging.Message], dry_run: bool) -> list[Outcome]:
        if not batch:
            return []
        assert len(batch) <= MAX_BATCH
        answer = await messaging.send_each_async(batch, dry_run=dry_run, app=self.app)
        return [outcome_of(r.exception, r.message_id) for r in answer.responses]

    async def close(self) -> None:
        """Close the HTTP client in this loop, then the app (whose own cleanup runs
        ``asyncio.run`` and so must not run in this loop)."""
        await messaging._get_messaging_service(self.app)._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self.app)


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
