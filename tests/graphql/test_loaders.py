"""Catalogue loaders answer cached keys at once and keep one answer per key per request;
a request's loaders are made on first use."""

from __future__ import annotations

from collections.abc import Sequence

from bff.graphql.loaders import CatalogueLoader, Loaders
from bff.kernel.catalogue import CatalogueCache
from bff.kernel.db import Database


class Shelf:
    """A batch function over a dict, recording the keys each call asked for."""

    def __init__(self, rows: dict[int, str]) -> None:
        self.rows = rows
        self.asked: list[list[int]] = []

    async def load(self, keys: Sequence[int]) -> list[str | None]:
        self.asked.append(list(keys))
        return [self.rows.get(key) for key in keys]


async def test_a_cached_key_is_answered_without_a_batch():
    cache, shelf = CatalogueCache(ttl=60), Shelf({1: "Pizza", 2: "Sushi"})
    assert await CatalogueLoader(cache, "category", shelf.load).load(1) == "Pizza"
    assert shelf.asked == [[1]]
    answered = CatalogueLoader(cache, "category", shelf.load).load(1)  # the next request
    assert answered.done()
    assert await answered == "Pizza"
    assert shelf.asked == [[1]]


async def test_load_many_asks_only_for_missing_keys_and_keeps_the_order():
    cache, shelf = CatalogueCache(ttl=60), Shelf({1: "Pizza", 2: "Sushi", 3: "Tea"})
    await CatalogueLoader(cache, "category", shelf.load).load(2)
    loader = CatalogueLoader(cache, "category", shelf.load)
    assert await loader.load_many([3, 2, 1, 9]) == ["Tea", "Sushi", "Pizza", None]
    assert shelf.asked == [[2], [3, 1, 9]]
    together = CatalogueLoader(cache, "category", shelf.load).load_many([1, 2, 3])
    assert await together == ["Pizza", "Sushi", "Tea"]
    assert shelf.asked == [[2], [3, 1, 9]]


async def test_a_request_keeps_its_answer_when_the_catalogue_changes_meanwhile():
    cache, shelf = CatalogueCache(ttl=60), Shelf({1: "Pizza"})
    loader = CatalogueLoader(cache, "category", shelf.load)
    assert await loader.load(1) == "Pizza"
    shelf.rows[1] = "Pizza (new)"
    cache.invalidate()
    assert await loader.load(1) == "Pizza"  # one answer per key within a request
    assert await CatalogueLoader(cache, "category", shelf.load).load(1) == "Pizza (new)"


async def test_without_caching_every_request_reads():
    cache, shelf = CatalogueCache(ttl=0), Shelf({1: "Pizza"})
    for _ in range(2):
        assert await CatalogueLoader(cache, "category", shelf.load).load_many([1]) == ["Pizza"]
    assert shelf.asked == [[1], [1]]


async def test_loaders_are_made_on_first_use_once_per_request(settings):
    db = Database(settings)
    try:
        loaders = Loaders.build(db, CatalogueCache(ttl=60))
        assert "wallets_by_customer_id" not in vars(loaders)
        wallets = loaders.wallets_by_customer_id
        assert loaders.wallets_by_customer_id is wallets
        assert "flags" not in vars(loaders)
        assert Loaders.build(db, CatalogueCache(ttl=60)).wallets_by_customer_id is not wallets
    finally:
        await db.dispose()
