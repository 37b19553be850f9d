"""The catalogue cache: shared rows are read once, and every staff edit is seen at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import update

from bff.app import create_app
from bff.kernel import catalogue as catalogue_module
from bff.kernel.auth import Role
from bff.kernel.catalogue import CatalogueCache
from bff.kernel.config import Settings
from bff.kernel.global_ids import encode_id
from bff.kernel.secrets import SecretBox
from bff.partners.models import Offer
from tests.conftest import counting_statements, serving
from tests.fixtures.graphql import gql, token
from tests.fixtures.marketplace import make_category, make_product
from tests.fixtures.partners import make_offer, make_partner, offer_gid

SHOP = """{ offers { edges { node { title partner { name } } } }
  marketplace(city: "Kazan") { categories { edges { node { title price { amount }
    products { edges { node { title available unavailableReason stopNote } } } } } } }
  featureFlags { key enabled }
  me { wallets { currency } } }"""


async def shop(client: httpx.AsyncClient, settings: Settings) -> dict:
    body = await gql(client, SHOP, bearer=token(settings, "anna"))
    assert "errors" not in body, body
    return body["data"]


def offer_titles(data: dict) -> list[str]:
    return [edge["node"]["title"] for edge in data["offers"]["edges"]]


def shelf(data: dict) -> list[dict]:
    categories = data["marketplace"]["categories"]["edges"]
    return [edge["node"] for edge in categories]


async def staff(client: httpx.AsyncClient, settings: Settings, mutation: str, role: Role) -> None:
    body = await gql(client, mutation, bearer=token(settings, "boss", role))
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload


@pytest.fixture
async def stocked(app_client, db):
    partner = await make_partner(db, app_client.app.state.secret_box)
    offer = await make_offer(db, partner, title="Cashback")
    category = await make_category(db, "Pizza")
    product = await make_product(db, category, "Margherita")
    return offer, category, product


async def test_a_second_request_reads_no_catalogue_rows(app_client, settings, stocked):
    await shop(app_client, settings)
    with counting_statements(app_client.app) as counter:
        await shop(app_client, settings)
    # the customer row (for the city and the flags) and the wallets: nothing shared
    assert len(counter.statements) == 2, counter.statements


async def test_a_write_that_bypasses_the_services_is_seen_after_the_ttl(
    app_client, settings, db, stocked
):
    offer, _, _ = stocked
    await shop(app_client, settings)
    async with db.unit_of_work() as session:  # as another process without NOTIFY would
        await session.execute(update(Offer).where(Offer.id == offer.id).values(title="Renamed"))
    assert offer_titles(await shop(app_client, settings)) == ["Cashback"]  # cached
    app_client.app.state.catalogue.invalidate()  # what the TTL does a few seconds later
    assert offer_titles(await shop(app_client, settings)) == ["Renamed"]


async def test_offer_and_partner_edits_are_seen_at_once(app_client, settings, stocked):
    offer, _, _ = stocked
    await shop(app_client, settings)
    await staff(
        app_client,
        settings,
        f'mutation {{ offerUpdate(input: {{id: "{offer_gid(offer)}", title: "Double"}}) '
        "{ userErrors { code } } }",
        Role.MARKETING,
    )
    assert offer_titles(await shop(app_client, settings)) == ["Double"]
    await staff(
        app_client,
        settings,
        'mutation { partnerUpdate(input: {code: "bank", name: "Big Bank"}) '
        "{ userErrors { code } } }",
        Role.MARKETING,
    )
    data = await shop(app_client, settings)
    assert data["offers"]["edges"][0]["node"]["partner"]["name"] == "Big Bank"
    await staff(
        app_client,
        settings,
        'mutation { partnerUpdate(input: {code: "bank", active: false}) { userErrors { code } } }',
        Role.MARKETING,
    )
    assert offer_titles(await shop(app_client, settings)) == []


async def test_marketplace_edits_are_seen_at_once(app_client, settings, stocked):
    _, category, product = stocked
    await shop(app_client, settings)
    category_id = encode_id("MarketplaceCategory", category.id)
    product_id = encode_id("MarketplaceProduct", product.id)
    await staff(
        app_client,
        settings,
        f'mutation {{ marketplaceCategoryUpdate(input: {{id: "{category_id}", price: 7}}) '
        "{ userErrors { code } } }",
        Role.ADMIN,
    )
    assert shelf(await shop(app_client, settings))[0]["price"]["amount"] == 7
    await staff(
        app_client,
        settings,
        f'mutation {{ marketplaceProductUpdate(input: {{id: "{product_id}", title: "Diavola"}}) '
        "{ userErrors { code } } }",
        Role.ADMIN,
    )
    products = shelf(await shop(app_client, settings))[0]["products"]["edges"]
    assert products[0]["node"]["title"] == "Diavola"
    await staff(
        app_client,
        settings,
        "mutation { marketplaceStopListSet(input: "
        f'{{productId: "{product_id}", reason: "Sold out"}}) {{ userErrors {{ code }} }} }}',
        Role.SUPPORT,
    )
    products = shelf(await shop(app_client, settings))[0]["products"]["edges"]
    assert products[0]["node"]["stopNote"] == "Sold out"
    await staff(
        app_client,
        settings,
        f'mutation {{ marketplaceStopListLift(input: {{productId: "{product_id}"}}) '
        "{ userErrors { code } } }",
        Role.SUPPORT,
    )
    products = shelf(await shop(app_client, settings))[0]["products"]["edges"]
    assert products[0]["node"]["available"] is True


async def test_flag_and_currency_edits_are_seen_at_once(app_client, settings, stocked):
    before = await shop(app_client, settings)
    assert before["featureFlags"] == []
    assert [w["currency"] for w in before["me"]["wallets"]] == ["COINS", "POINTS"]
    await staff(
        app_client,
        settings,
        'mutation { featureFlagSet(input: {key: "new_home", enabled: true}) '
        "{ userErrors { code } } }",
        Role.ADMIN,
    )
    await staff(
        app_client,
        settings,
        "mutation { currencyUpdate(input: {code: LEGACY, enabled: true}) { userErrors { code } } }",
        Role.ADMIN,
    )
    after = await shop(app_client, settings)
    assert after["featureFlags"] == [{"key": "new_home", "enabled": True}]
    assert [w["currency"] for w in after["me"]["wallets"]] == ["COINS", "LEGACY", "POINTS"]


async def test_a_refused_edit_keeps_the_cache(app_client, settings, stocked):
    offer, _, _ = stocked
    await shop(app_client, settings)
    body = await gql(
        app_client,
        f'mutation {{ offerUpdate(input: {{id: "{offer_gid(offer)}", rewardPoints: -5}}) '
        "{ userErrors { code } } }",
        bearer=token(settings, "boss", Role.MARKETING),
    )
    assert body["data"]["offerUpdate"]["userErrors"], body
    with counting_statements(app_client.app) as counter:
        await shop(app_client, settings)
    assert len(counter.statements) == 2


async def test_a_zero_ttl_turns_the_cache_off(settings, db, stocked_db_only):
    app = create_app(replace(settings, catalogue_cache_seconds=0))
    async with serving(app) as client:
        await shop(client, settings)
        with counting_statements(app) as counter:
            await shop(client, settings)
    assert len(counter.statements) > 2


@pytest.fixture
async def stocked_db_only(db, settings):
    partner = await make_partner(db, SecretBox.from_settings(settings))
    await make_offer(db, partner)


def offer_titles_and_ids(body: dict) -> str:
    return str(body["data"]["offers"]["edges"][0]["node"]["id"])


async def test_a_load_that_overlaps_an_invalidation_is_not_kept():
    cache = CatalogueCache(ttl=60)
    release = asyncio.Event()

    async def slow_old_read() -> str:
        await release.wait()
        return "old"

    reader = asyncio.create_task(cache.get("offers", slow_old_read))
    await asyncio.sleep(0)
    cache.invalidate()  # a staff edit commits while the read is in flight
    release.set()
    assert await reader == "old"  # that request answers with what it read...

    async def new_read() -> str:
        return "new"

    assert await cache.get("offers", new_read) == "new"  # ...but the cache did not keep it


class CountedRead:
    """A read that waits for ``release`` and counts how often it ran."""

    def __init__(self, value: str = "rows") -> None:
        self.value = value
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.calls += 1
        number = self.calls
        await self.release.wait()
        return f"{self.value} {number}"


async def test_requests_that_miss_together_share_one_read():
    cache, read = CatalogueCache(ttl=60), CountedRead()
    waiting = [asyncio.create_task(cache.get("flags", read)) for _ in range(20)]
    await asyncio.sleep(0)
    read.release.set()
    assert await asyncio.gather(*waiting) == ["rows 1"] * 20
    assert read.calls == 1


async def test_a_read_begun_before_an_edit_is_not_shared_after_it():
    cache, read = CatalogueCache(ttl=60), CountedRead()
    before = asyncio.create_task(cache.get("flags", read))
    await asyncio.sleep(0)
    cache.invalidate()  # a staff edit commits; the next request must see it
    after = asyncio.create_task(cache.get("flags", read))
    await asyncio.sleep(0)
    read.release.set()
    assert (await before, await after) == ("rows 1", "rows 2")
    assert cache.peek("flags") == (True, "rows 2")


async def test_when_the_shared_read_fails_each_waiting_request_reads_itself():
    cache, read = CatalogueCache(ttl=60), CountedRead()
    leader = asyncio.create_task(cache.get("flags", read))
    await asyncio.sleep(0)
    followers = [asyncio.create_task(cache.get("flags", read)) for _ in range(3)]
    await asyncio.sleep(0)
    leader.cancel()  # its client went away
    await asyncio.sleep(0)
    read.release.set()
    assert await asyncio.gather(*followers) == ["rows 2"] * 3  # one of them read again
    assert read.calls == 2
    assert leader.cancelled()


async def test_a_waiting_request_that_is_cancelled_leaves_the_read_to_the_others():
    cache, read = CatalogueCache(ttl=60), CountedRead()
    leader = asyncio.create_task(cache.get("flags", read))
    await asyncio.sleep(0)
    follower = asyncio.create_task(cache.get("flags", read))
    await asyncio.sleep(0)
    follower.cancel()
    await asyncio.sleep(0)
    read.release.set()
    assert await leader == "rows 1"
    assert follower.cancelled()
    assert read.calls == 1


async def test_batches_that_miss_together_share_one_read():
    cache, asked = CatalogueCache(ttl=60), []
    release = asyncio.Event()

    async def partners(keys):
        asked.append(list(keys))
        await release.wait()
        return [f"partner {key}" for key in keys]

    load = cache.batch("partner", partners)
    waiting = [asyncio.create_task(load([1, 2])) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [["partner 1", "partner 2"]] * 10
    assert asked == [[1, 2]]
    assert cache.peek(("partner", 2)) == (True, "partner 2")


async def test_an_edit_in_one_process_reaches_the_others(settings, db, stocked_db_only):
    """Announced at commit (NOTIFY): the reader drops its copy long before the TTL."""
    shared = replace(settings, catalogue_cache_seconds=3600)
    editor_app, reader_app = create_app(shared), create_app(shared)
    async with serving(editor_app) as editor, serving(reader_app) as reader:
        assert offer_titles(await shop(reader, settings)) == ["Pay by card"]
        gid = offer_titles_and_ids(await gql(reader, "{ offers { edges { node { id } } } }"))
        await staff(
            editor,
            settings,
            f'mutation {{ offerUpdate(input: {{id: "{gid}", title: "Everywhere"}}) '
            "{ userErrors { code } } }",
            Role.MARKETING,
        )
        for _ in range(100):
            if offer_titles(await shop(reader, settings)) == ["Everywhere"]:
                break
            await asyncio.sleep(0.02)
        assert offer_titles(await shop(reader, settings)) == ["Everywhere"]


async def test_a_request_waits_a_moment_for_another_ones_read_then_reads_itself(monkeypatch):
    # The other request may be waiting for a pool connection that this one holds.
    monkeypatch.setattr(catalogue_module, "FLIGHT_WAIT_SECONDS", 0.05)
    cache, stuck = CatalogueCache(ttl=60), CountedRead()
    first = asyncio.create_task(cache.get("flags", stuck))
    await asyncio.sleep(0)

    async def quick() -> str:
        return "read here"

    assert await cache.get("flags", quick) == "read here"
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
