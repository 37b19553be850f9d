"""Fuzzing with schemathesis: the signed APIs from their own OpenAPI document (most
requests signed right, so that they reach the handlers) and every root field of the
GraphQL schema, as a customer, as staff and anonymously. The bar: no server error, and
the ledger's invariants hold afterwards.

Cases are drawn first, with a fixed seed and a bounded number per operation, then sent:
the same requests on every run, each failure named with the request that caused it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import schemathesis
from graphql import (
    BooleanValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet
from sqlalchemy import select

from bff.http.openapi import DOCUMENT
from bff.kernel.auth import Role
from bff.kernel.signing import sign
from bff.ledger.models import Wallet
from tests.fixtures.earning import ORDERS_SECRET
from tests.fixtures.factories import accrue, make_customer
from tests.fixtures.graphql import token
from tests.fixtures.partners import PARTNER_SECRET, activate, make_offer, make_partner
from tests.ledger.invariants import check_wallet_invariants

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"
PARTNER_EXAMPLES = 40
GRAPHQL_EXAMPLES = 10


def json_literal(value: Any) -> ValueNode:
    """A JSON value as a GraphQL literal (the `JSON` scalar takes any)."""
    if value is None:
        return NullValueNode()
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    if isinstance(value, float):
        return FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return StringValueNode(value=value)
    if isinstance(value, list):
        return ListValueNode(values=tuple(json_literal(item) for item in value))
    fields = (
        ObjectFieldNode(name=NameNode(value=k), value=json_literal(v)) for k, v in value.items()
    )
    return ObjectValueNode(fields=tuple(fields))


GRAPHQL_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(GRAPHQL_NAMES, children, max_size=4)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    _containers,
    max_leaves=12,
)
schemathesis.graphql.scalar("JSON", JSON_VALUES.map(json_literal))


def drawn(operation: Any, examples: int) -> list[Any]:
    """``examples`` cases of ``operation``, the same ones on every run."""
    found: list[Any] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


def secret_for(path: str) -> str:
    """The partner's secret on its routes, the ordering system's on the others."""
    return PARTNER_SECRET if path.startswith("/api/partners/") else ORDERS_SECRET


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


async def check_every_wallet(db) -> None:
    async with db.read() as session:
        wallets = list(await session.scalars(select(Wallet.id)))
    for wallet in wallets:
        await check_wallet_invariants(db, wallet)


async def test_the_signed_apis_never_answer_a_server_error(app_client, db):
    partner = await make_partner(db, app_client.app.state.secret_box)
    offer = await make_offer(db, partner)
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 500)
    await activate(db, offer, "anna")

    failures, statuses = [], {}
    for operation in operations(schemathesis.openapi.from_dict(DOCUMENT)):
        for number, case in enumerate(drawn(operation, PARTNER_EXAMPLES)):
            if number % 4 and "partner_code" in (case.path_parameters or {}):
                case.path_parameters["partner_code"] = "bank"  # a known partner
            body = b"" if isinstance(case.body, NotSet) else json.dumps(case.body).encode()
            headers = {"content-type": "application/json"}
            if number % 4:
                stamp = int(time.time())
                headers |= {
                    "x-timestamp": str(stamp),
                    "x-signature": sign(secret_for(case.path), stamp, body),
                }
            else:
                headers |= {k: str(v) for k, v in (case.headers or {}).items()}
            response = await app_client.request(
                case.method, case.formatted_path, content=body, headers=headers, params=case.query
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, body[:300], response.text[:300]))
    assert failures == []
    # The fuzzing reached past the signature check, and into the handlers.
    assert statuses.keys() - {401, 404}, statuses
    assert sum(statuses.values()) >= 4 * PARTNER_EXAMPLES
    await check_every_wallet(db)


async def test_no_graphql_field_answers_a_server_error(app_client, db, settings):
    customer = await make_customer(db, "anna")
    await accrue(db, customer.id, 500)
    bearers = [
        token(settings, "anna"),
        token(settings, "olga", Role.SUPPORT, Role.MARKETING, Role.ADMIN),
        None,
    ]
    failures, answered = [], 0
    for operation in operations(schemathesis.graphql.from_path(SCHEMA)):
        for number, case in enumerate(drawn(operation, GRAPHQL_EXAMPLES)):
            bearer = bearers[number % len(bearers)]
            headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
            response = await app_client.post("/graphql", json={"query": case.body}, headers=headers)
            codes = (
                [
                    (error.get("extensions") or {}).get("code")
                    for error in (response.json().get("errors") or [])
                ]
                if response.headers.get("content-type", "").startswith("application/json")
                else []
            )
            answered += "data" in response.json() and not codes
            if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes:
                failures.append((operation.label, case.body[:300], response.text[:300]))
    assert failures == []
    assert answered >= GRAPHQL_EXAMPLES * 10  # many ran to the end, not only refusals
    await check_every_wallet(db)
