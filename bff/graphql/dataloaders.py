"""What every domain's DataLoaders stand on: a set of them per request, made on first use.

Loaders read through the request's ``Reader`` (``RequestReads``: one shared session for a
query). Each is a ``cached_property``: a request makes only those it uses. Rows every
customer shares go through ``CatalogueLoader`` and the catalogue cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import TypeVar, cast

from strawberry.dataloader import DataLoader

from bff.kernel.catalogue import CatalogueCache
from bff.kernel.db import Reader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CatalogueLoader(DataLoader[K, V]):
    """A loader of rows every customer shares: a key the catalogue cache holds is answered
    at once, without the batch (a task and a dispatch) a DataLoader schedules for it."""

    def __init__(
        self,
        catalogue: CatalogueCache,
        namespace: str,
        load: Callable[[Sequence[K]], Awaitable[list[V]]],
    ) -> None:
        super().__init__(catalogue.batch(namespace, load))
        self._catalogue = catalogue
        self._namespace = namespace

    def load(self, key: K) -> asyncio.Future[V]:
        answered = self.cache_map.get(key)  # one answer per key for the whole request
        if answered is None or answered.cancelled():
            found, value = self._catalogue.peek((self._namespace, key))
            if not found:
                return cast("asyncio.Future[V]", super().load(key))
            answered = self.loop.create_future()
            answered.set_result(value)
            self.cache_map.set(key, answered)
        return answered

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        answers = [self.load(key) for key in keys]
        if not all(_answered(answer) for answer in answers):
            return asyncio.gather(*answers)
        together: asyncio.Future[list[V]] = self.loop.create_future()
        together.set_result([answer.result() for answer in answers])
        return together


def _answered(future: asyncio.Future[V]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


class LoaderSet:
    """One domain's DataLoaders for one request (bff.graphql.loaders puts them together)."""

    def __init__(self, reads: Reader, catalogue: CatalogueCache) -> None:
        self.reads = reads
        self.catalogue = catalogue

    def shared(
        self, namespace: str, load: Callable[[Sequence[K]], Awaitable[list[V]]]
    ) -> CatalogueLoader[K, V]:
        """A loader of catalogue rows, kept across requests under ``namespace``."""
        return CatalogueLoader(self.catalogue, namespace, load)
