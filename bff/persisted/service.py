"""Which document a request runs: its text, or the one its hash names.

Automatic persisted queries (Apollo's protocol): an app sends
``extensions.persistedQuery = {version: 1, sha256Hash}`` alone; on
``PERSISTED_QUERY_NOT_FOUND`` it sends the document with the hash once, and the document
is kept (in the database, so every process knows it) after it parsed and validated.

Allow-list mode, the production default: only documents the operator registered with
``loyalty-bff allow-operations`` run, whether sent by hash or as text; anything else gets
``PERSISTED_QUERY_NOT_IN_LIST`` and apps cannot register new ones.

Nothing here grows without bound: a document over ``Limits.document_bytes`` is refused
before it is parsed (comments count: they cost nothing to the tokenizer but everything
to storage), apps may register only so many documents per hour and in all, and each
process keeps its copies within a byte budget.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from bff.kernel.db import Database
from bff.kernel.metrics import count_persisted_query_not_kept
from bff.kernel.types import utcnow
from bff.persisted.repository import PersistedQueryRepository

HASH = re.compile(r"^[0-9a-f]{64}$")
REGISTRATION_PERIOD = timedelta(hours=1)


@dataclass(frozen=True)
class Limits:
    document_bytes: int = 32 * 1024
    registered_total: int = 10_000
    registered_per_period: int = 1_000
    # What one process keeps of the documents it has seen, in bytes of text.
    process_cache_bytes: int = 16 * 1024 * 1024


class Mode(StrEnum):
    AUTOMATIC = "automatic"
    ALLOWLIST = "allowlist"
    OFF = "off"


class PersistedQueryError(Exception):
    """A request refused before it runs; ``code`` goes to ``extensions.code``."""

    code = "PERSISTED_QUERY_INVALID"
    message = "extensions.persistedQuery is malformed"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class QueryNotFound(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    message = "PersistedQueryNotFound"  # the text Apollo clients look for


class NotSupported(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    message = "PersistedQueryNotSupported"


class NotInList(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_IN_LIST"
    message = "only operations on the server's allow-list run here"


class DocumentTooLarge(PersistedQueryError):
    code = "QUERY_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The query document is over {limit} bytes; send a shorter one.")


class HashMismatch(PersistedQueryError):
    code = "PERSISTED_QUERY_HASH_MISMATCH"
    message = "sha256Hash is not the SHA-256 of the query sent with it"


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class Resolved:
    """The document to run; ``register`` when it should be kept once it validates."""

    document: str | None
    sha256: str | None = None
    register: bool = False

    @property
    def by_hash(self) -> bool:
        return self.sha256 is not None


class PersistedQueries:
    """Lookups by hash, with a per-process copy of the documents already seen."""

    def __init__(self, db: Database, mode: Mode, limits: Limits | None = None) -> None:
        self.db = db
        self.mode = mode
        self.limits = limits or Limits()
        self._documents: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        self._cached_bytes = 0

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> Resolved:
        if query is not None and len(query.encode()) > self.limits.document_bytes:
            raise DocumentTooLarge(self.limits.document_bytes)
        sent = (extensions or {}).get("persistedQuery")
        if sent is None:
            if self.mode is Mode.ALLOWLIST and query is not None:
                await self._require_allowed(sha256_of(query))
            return Resolved(query)
        if self.mode is Mode.OFF:
            raise NotSupported()
        sha256 = _hash_of(sent)
        if query is not None:
            if sha256_of(query) != sha256:
                raise HashMismatch()
            if self.mode is Mode.ALLOWLIST:
                await self._require_allowed(sha256)
                return Resolved(query, sha256)
            return Resolved(query, sha256, register=await self._known(sha256) is None)
        known = await self._known(sha256)
        if known is None:
            raise NotInList() if self.mode is Mode.ALLOWLIST else QueryNotFound()
        document, allowed = known
        if self.mode is Mode.ALLOWLIST and not allowed:
            raise NotInList()
        return Resolved(document, sha256)

    async def remember(self, resolved: Resolved, operation_name: str | None) -> bool:
        """Keep a document an app registered, within the storage budget; False when the
        budget is spent (the query still ran, and the app sends its text next time)."""
        assert resolved.document is not None
        assert resolved.sha256 is not None
        async with self.db.unit_of_work() as session:
            repository = PersistedQueryRepository(session)
            await repository.lock_registrations()
            full = await self._budget_spent(repository)
            if full is None:
                await repository.remember(resolved.sha256, resolved.document, operation_name)
        if full is not None:
            count_persisted_query_not_kept(full)
            return False
        self._keep(resolved.sha256, resolved.document, allowed=False)
        return True

    async def _budget_spent(self, repository: PersistedQueryRepository) -> str | None:
        """Which budget a new registration would pass: "period", "total" or None.

        At the total, the oldest registrations of earlier periods make room: an app whose
        document was forgotten registers it again on its next PERSISTED_QUERY_NOT_FOUND.
        """
        since = utcnow() - REGISTRATION_PERIOD
        if await repository.count_registered(since=since) >= self.limits.registered_per_period:
            return "period"
        excess = await repository.count_registered() - self.limits.registered_total + 1
        if excess > 0 and await repository.forget_oldest(excess, before=since) < excess:
            return "total"
        return None

    async def _require_allowed(self, sha256: str) -> None:
        known = await self._known(sha256)
        if known is None or not known[1]:
            raise NotInList()

    async def _known(self, sha256: str) -> tuple[str, bool] | None:
        cached = self._documents.get(sha256)
        if cached is not None and (cached[1] or self.mode is not Mode.ALLOWLIST):
            self._documents.move_to_end(sha256)
            return cached
        # Misses are not cached: another process may register the document any time.
        async with self.db.read() as session:
            row = await PersistedQueryRepository(session).find(sha256)
        if row is None:
            return None
        self._keep(sha256, row.document, row.allowed)
        return row.document, row.allowed

    def _keep(self, sha256: str, document: str, allowed: bool) -> None:
        replaced = self._documents.pop(sha256, None)
        if replaced is not None:
            self._cached_bytes -= len(replaced[0])
        self._documents[sha256] = (document, allowed)
        self._cached_bytes += len(document)
        while self._cached_bytes > self.limits.process_cache_bytes:
            evicted, _allowed = self._documents.popitem(last=False)[1]
            self._cached_bytes -= len(evicted)

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes


def _hash_of(sent: object) -> str:
    if not isinstance(sent, dict):
        raise PersistedQueryError("extensions.persistedQuery: expected an object")
    if sent.get("version") != 1:
        raise PersistedQueryError("extensions.persistedQuery: only version 1 is supported")
    sha256 = sent.get("sha256Hash")
    if not isinstance(sha256, str) or not HASH.match(sha256.lower()):
        raise PersistedQueryError(
            "extensions.persistedQuery: sha256Hash must be 64 hexadecimal digits"
        )
    return sha256.lower()


@dataclass(frozen=True)
class Operation:
    """An operation the operator allows: its document and the name to show."""

    document: str
    name: str | None

    @property
    def sha256(self) -> str:
        return sha256_of(self.document)


class ManifestError(ValueError):
    pass


def read_operations(path: Path) -> list[Operation]:
    """A ``.graphql`` file (one document, hashed exactly as written), an Apollo
    persisted-query manifest (``.json``: ``{"operations": [{"id", "name", "body"}]}``) or
    graphql-codegen's ``persisted-documents.json`` (``{"<sha256>": "<document>"}``, made
    with ``hashAlgorithm: "sha256"``)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".json":
        if not text.strip():
            raise ManifestError(f"{path}: empty document")
        return [Operation(text, path.stem)]
    try:
        manifest = json.loads(text)
        if isinstance(manifest, dict) and "operations" not in manifest:
            pairs = [(body, None, given_id) for given_id, body in manifest.items()]
        else:
            pairs = [(op["body"], op.get("name"), op.get("id")) for op in manifest["operations"]]
        found = [(Operation(body, name), given_id) for body, name, given_id in pairs]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ManifestError(f"{path}: not a persisted-query manifest ({error})") from error
    for operation, given_id in found:
        if not isinstance(operation.document, str) or not operation.document.strip():
            raise ManifestError(f"{path}: an operation has no document")
        if given_id is not None and given_id != operation.sha256:
            raise ManifestError(f"{path}: id {given_id} is not the SHA-256 of its body")
    return [operation for operation, _ in found]


async def allow_operations(db: Database, operations: list[Operation]) -> int:
    """Put operations on the allow-list in one transaction; returns how many were new."""
    hashes = [operation.sha256 for operation in operations]
    async with db.unit_of_work() as session:
        repository = PersistedQueryRepository(session)
        already = await repository.allowed_among(hashes)
        for operation in operations:
            await repository.allow(operation.sha256, operation.document, operation.name)
    return len(set(hashes) - already)
