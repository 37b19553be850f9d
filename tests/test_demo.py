"""What `make run` loads: every list a newcomer opens has something in it."""

from __future__ import annotations

from bff.demo import DEMO_CUSTOMER, STOPPED, load_demo
from tests.fixtures.graphql import gql, token

SHOWCASE = """{
  partners { edges { node { code logoUrl offers { edges { node { id } } } } } }
  offers { edges { node { title activation { active } } } }
  marketplace { city categories { edges { node { title imageUrl price { amount currency }
    products { edges { node { title imageUrl available unavailableReason } } } } } } }
  me {
    level { current { code } progress { completedOrders } }
    spendable(brand: "grocery", amount: 100000) { points { amount } reason }
    history(first: 100) { edges { node { amount { amount currency } } } }
  }
}"""


async def test_the_demo_shows_every_screen_something(app_client, settings, db):
    created = await load_demo(db, app_client.app.state.secret_box)
    assert (created["partners"], created["gifts"]) == (3, 7)
    again = await load_demo(db, app_client.app.state.secret_box)
    assert (again["partners"], again["offers"], again["gifts"]) == (0, 0, 0)  # idempotent

    body = await gql(app_client, SHOWCASE, bearer=token(settings, DEMO_CUSTOMER))
    assert "errors" not in body, body["errors"]
    data = body["data"]
    partners = [edge["node"] for edge in data["partners"]["edges"]]
    assert {p["code"] for p in partners} == {"bank", "mobile", "insurer"}
    assert all(p["offers"]["edges"] for p in partners)
    logo = partners[0]["logoUrl"]
    assert logo.startswith(f"http://{settings.host}:{settings.port}/webviews/static/demo-")
    picture = await app_client.get(logo.split(str(settings.port), 1)[1])
    assert (picture.status_code, picture.headers["content-type"]) == (200, "image/svg+xml")
    assert any(
        edge["node"]["activation"] and edge["node"]["activation"]["active"]
        for edge in data["offers"]["edges"]
    )
    shelf = data["marketplace"]
    assert shelf["city"] == "moscow"
    products = [
        product["node"]
        for category in shelf["categories"]["edges"]
        for product in category["node"]["products"]["edges"]
    ]
    stopped = [p for p in products if not p["available"]]
    assert [p["title"] for p in stopped] == [STOPPED]
    assert all(p["imageUrl"] for p in products)
    me = data["me"]
    assert me["level"]["progress"]["completedOrders"] > 0
    assert me["spendable"]["points"]["amount"] > 0
    currencies = {edge["node"]["amount"]["currency"] for edge in me["history"]["edges"]}
    assert currencies == {"POINTS", "COINS"}
