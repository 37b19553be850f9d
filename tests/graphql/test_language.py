"""A Russian customer reads Russian: the app's home screen and history, in the demo
program (texts written in English with Russian translations), hold no English word.
Codes, ids, enum values, links and dates are for machines and are left out of the walk;
every other string in the answer is read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bff.demo import DEMO_CUSTOMER, load_demo
from bff.kernel.secrets import SecretBox
from bff.worker import run_once
from tests.fixtures.graphql import gql, token

SCREENS = """{
  home {
    wallets { currency balance expiringSoon { amount at } }
    level { current { code name perks { code title } } next { name } decayAt }
    offers(first: 20) { edges { node {
      id title description terms unavailableCode unavailableReason
      reward { kind currency points { amount text } cap { amount text } }
      partner { code name category categoryName description logoUrl }
    } } }
    marketplace { city categories { edges { node {
      title price { amount currency text }
      products { edges { node { title description unavailableCode unavailableReason } } }
    } } } }
  }
  me {
    displayName
    history(first: 100) { edges { cursor node {
      id kind currency amount { amount currency text } reason createdAt source { type id }
    } } }
  }
}"""

# Fields whose values are for programs, not people.
MACHINE = {
    "id",
    "cursor",
    "code",
    "currency",
    "kind",
    "type",
    "category",
    "unavailableCode",
    "logoUrl",
    "createdAt",
    "decayAt",
    "at",
    "city",
}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def people_texts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from people_texts(inner, name)
    elif isinstance(value, list):
        for item in value:
            yield from people_texts(item, key)
    elif isinstance(value, str) and key not in MACHINE:
        yield key, value


async def test_a_russian_answer_has_no_english(app_client, settings, db):
    await load_demo(db, SecretBox.from_settings(settings))
    await run_once(db, settings)  # the demo orders' accruals post
    body = await gql(
        app_client,
        SCREENS,
        bearer=token(settings, DEMO_CUSTOMER),
        headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.5"},
    )
    assert "errors" not in body, body["errors"]
    texts = list(people_texts(body["data"]))
    reasons = {text for key, text in texts if key == "reason"}
    # The walk reads what it should: rules', offers' and gifts' words among them.
    assert {"Кешбэк в «Продуктах» 3 % + бонус уровня", "Заказ пиццы"} <= reasons
    assert len(texts) > 50
    english = [(key, text) for key, text in texts if LATIN_WORD.search(text)]
    assert english == []


async def test_the_same_answer_in_english_reads_english(app_client, settings, db):
    await load_demo(db, SecretBox.from_settings(settings))
    body = await gql(app_client, SCREENS, bearer=token(settings, DEMO_CUSTOMER))
    titles = [edge["node"]["title"] for edge in body["data"]["home"]["offers"]["edges"]]
    assert "Open a debit card" in titles
    categories = {
        edge["node"]["partner"]["categoryName"] for edge in body["data"]["home"]["offers"]["edges"]
    }
    assert categories == {"Banks", "Mobile and internet", "Insurance"}
