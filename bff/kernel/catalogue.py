"""The catalogue cache: rows every customer shares, kept per process for a few seconds.

Offers, partners, gift categories and products, stop-list entries, feature flags, levels
and currencies are the same for everyone and change only when staff edit them, so a home
screen should cost only the customer's own rows.

How a change reaches every process:

- A service that changes catalogue rows calls :func:`catalogue_changed` inside its
  transaction. The process that committed drops its copy as soon as the commit returns
  (``Database.unit_of_work``), so staff read their own writes.
- On PostgreSQL the same call queues ``NOTIFY bff_catalogue``, which PostgreSQL delivers
  only if the transaction commits; every process listens (:class:`CatalogueListener`) and
  drops its copy within milliseconds.
- Without PostgreSQL, or while a listener is reconnecting, other processes keep their copy
  for at most ``BFF_CATALOGUE_CACHE_SECONDS``.

A load that overlaps an invalidation is answered but not kept: the generation counter
keeps a read that started before a change from refilling the cache with old rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bff.kernel.db import CATALOGUE_CHANGED

CHANNEL = "bff_catalogue"
MAX_ENTRIES = 20_000  # keys include page cursors: bound the memory
RECONNECT_SECONDS = 2.0
FLIGHT_WAIT_SECONDS = 1.0  # a request waits this long for another's read of the same rows

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

log = logging.getLogger(__name__)


async def catalogue_changed(session: AsyncSession) -> None:
    """Mark this transaction as changing the catalogue (announced if it commits)."""
    session.info[CATALOGUE_CHANGED] = True
    await session.execute(select(func.pg_notify(CHANNEL, "")))


class CatalogueCache:
    """Shared rows by key, each kept ``ttl`` seconds; ``ttl == 0`` turns caching off."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.generation = 0
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        # Loads under way, by key: (generation they began in, their answer).
        self._flights: dict[Hashable, tuple[int, asyncio.Future[Any]]] = {}

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` while ``key`` is kept and fresh, else ``(False, None)``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return False, None
        return True, entry[1]

    def keep(self, generation: int, key: Hashable, value: Any) -> None:
        """Keep ``value``, made from rows read at ``generation``, unless they changed since."""
        self._keep(generation, {key: value})

    def _keep(self, generation: int, items: dict[Hashable, Any]) -> None:
        if generation != self.generation or self.ttl <= 0:
            return
        if len(self._entries) + len(items) > MAX_ENTRIES:
            self._entries.clear()
        expires = time.monotonic() + self.ttl
        self._entries.update((key, (expires, value)) for key, value in items.items())

    async def get(
        self, key: Hashable, load: Callable[[], Awaitable[T]], generation: int | None = None
    ) -> T:
        """The kept value, or what ``load`` makes of rows read at ``generation`` (by
        default now; a request passes its own start when ``load`` uses what it read
        before)."""
        found, value = self.peek(key)
        if found:
            return value  # type: ignore[no-any-return]
        keep_as = self.generation if generation is None else generation
        loaded = await self._load_once(key, load)
        self.keep(keep_as, key, loaded)
        return loaded

    async def _load_once(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``, or the answer of the same load already under way in this generation:
        when an entry expires, the requests in flight would otherwise all read it again."""
        if (flight := self.flight(key)) is not None:
            loaded = await self.wait_for_flight(flight)
            if loaded is not None:
                return loaded  # type: ignore[no-any-return]
            # That load failed or is slow; another request may have read it since.
            found, value = self.peek(key)
            if found:
                return value  # type: ignore[no-any-return]
        answer = self.begin_flight(key)
        try:
            loaded = await load()
        except BaseException:
            answer.cancel()  # who waited on it loads again
            raise
        finally:
            self.end_flight(key, answer)
        answer.set_result(loaded)
        return loaded

    def flight(self, key: Hashable) -> asyncio.Future[Any] | None:
        """The answer to ``key`` that a request is making now, in this generation."""
        found = self._flights.get(key)
        return found[1] if found is not None and found[0] == self.generation else None

    async def wait_for_flight(self, flight: asyncio.Future[Any]) -> Any | None:
        """The answer of another request's flight; None if it failed or is still under way
        after FLIGHT_WAIT_SECONDS (it may be waiting for a pool connection that this very
        request holds, so a wait without end could hold the pool until it times out)."""
        try:
            return await asyncio.wait_for(asyncio.shield(flight), FLIGHT_WAIT_SECONDS)
        except TimeoutError:
            return None
        except asyncio.CancelledError:
            if not flight.cancelled():
                raise  # this request was cancelled, not the one it waited for
            return None

    def begin_flight(self, key: Hashable) -> asyncio.Future[Any]:
        """Announce that this request makes ``key``: others may wait for its answer
        (cancelled: make it yourself) instead of making it too."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flights[key] = (self.generation, answer)
        return answer

    def end_flight(self, key: Hashable, answer: asyncio.Future[Any]) -> None:
        if self._flights.get(key, (0, None))[1] is answer:
            del self._flights[key]

    def batch(
        self, namespace: str, load: Callable[[Sequence[K]], Awaitable[list[V]]]
    ) -> Callable[[Sequence[K]], Awaitable[list[V]]]:
        """A DataLoader batch function that asks ``load`` only for keys not cached."""

        async def cached_load(keys: Sequence[K]) -> list[V]:
            answers: dict[K, V] = {}
            missing: list[K] = []
            for key in keys:
                found, value = self.peek((namespace, key))
                if found:
                    answers[key] = value
                else:
                    missing.append(key)
            if missing:
                generation = self.generation
                flight = (namespace, "batch", tuple(missing))
                rows = await self._load_once(flight, lambda: load(missing))
                loaded = dict(zip(missing, rows, strict=True))
                self._keep(generation, {(namespace, k): v for k, v in loaded.items()})
                answers.update(loaded)
            return [answers[key] for key in keys]

        return cached_load


class CatalogueListener:
    """Drops the cache whenever any process announces a catalogue change (PostgreSQL)."""

    def __init__(self, dsn: str, cache: CatalogueCache) -> None:
        self.dsn = dsn
        self.cache = cache
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever())
        try:
            await asyncio.wait_for(self.connected.wait(), timeout=5)
        except TimeoutError:
            log.warning("catalogue listener not connected yet; the cache TTL still applies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen_forever(self) -> None:
        import asyncpg  # only PostgreSQL deployments need it

        while True:
            try:
                connection = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("catalogue listener cannot connect: %s", error)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                await self._listen_on(connection)
                log.warning("catalogue listener lost its connection; reconnecting")
            finally:
                self.connected.clear()
                await connection.close()

    async def _listen_on(self, connection: Any) -> None:
        """Until the connection is lost."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, self._on_notify)
        # Changes made while we were away were never announced to us.
        self.cache.invalidate()
        self.connected.set()
        await lost.wait()

    def _on_notify(self, *_args: object) -> None:
        self.cache.invalidate()


def listener_dsn(database_url: str) -> str:
    """The SQLAlchemy URL as asyncpg wants it."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
