"""Push over GraphQL: devices and preferences for customers, segments and campaigns for
marketing staff, with FCM answered by the local server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from bff.app import create_app
from bff.kernel.auth import Role
from bff.kernel.global_ids import encode_id
from bff.kernel.types import utcnow
from push.delivery import deliver, start_due_campaigns
from tests.conftest import serving
from tests.fixtures.fcm import PROJECT
from tests.fixtures.graphql import error_codes, gql, token
from tests.push.test_delivery import customer_with_device
from tests.push.test_delivery import token as device_token

REGISTER = """mutation ($input: DeviceRegisterInput!) { deviceRegister(input: $input) {
  device { platform timezone active } userErrors { code field } } }"""
CAMPAIGN = """mutation ($input: CampaignCreateInput!) { campaignCreate(input: $input) {
  campaign { id status stats { targeted sent } } userErrors { code field locale message } } }"""
STATS = """query ($id: ID!) { campaign(id: $id) { status stats { targeted pending sent failed
  failedByReason { reason count } deferredByQuietHours capped } } }"""


@pytest.fixture
def push_settings(settings, fcm):
    return replace(settings, fcm_project_id=PROJECT, fcm_url=fcm.url)


@pytest.fixture
async def client(push_settings, db) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(push_settings)) as made:
        yield made


def device_input(**overrides):
    return {
        "token": device_token(1),
        "platform": "IOS",
        "appVersion": "5.1.0",
        "locale": "RU",
        "timezone": "Asia/Yekaterinburg",
    } | overrides


async def test_devices_register_move_and_unregister(client, push_settings):
    anna, boris = token(push_settings, "anna"), token(push_settings, "boris")
    body = await gql(client, REGISTER, {"input": device_input()}, bearer=anna)
    assert body["data"]["deviceRegister"]["device"] == {
        "platform": "IOS",
        "timezone": "Asia/Yekaterinburg",
        "active": True,
    }
    for bad, code in (
        ({"token": "x"}, "INVALID_TOKEN"),
        ({"timezone": "Mars/Base"}, "INVALID_TIMEZONE"),
        ({"timezone": "Europe/" + "x" * 300}, "INVALID_TIMEZONE"),
        ({"timezone": "x" * 5000}, "INVALID_TIMEZONE"),
    ):
        refused = await gql(client, REGISTER, {"input": device_input(**bad)}, bearer=anna)
        assert [e["code"] for e in refused["data"]["deviceRegister"]["userErrors"]] == [code]
    await gql(client, REGISTER, {"input": device_input()}, bearer=boris)  # the phone moved
    unregister = "mutation ($t: String!) { deviceUnregister(input: {token: $t}) { unregistered } }"
    mine = await gql(client, unregister, {"t": device_token(1)}, bearer=anna)
    assert mine["data"]["deviceUnregister"]["unregistered"] is False  # boris's now
    theirs = await gql(client, unregister, {"t": device_token(1)}, bearer=boris)
    assert theirs["data"]["deviceUnregister"]["unregistered"] is True
    anonymous = await gql(client, REGISTER, {"input": device_input()})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_preferences_default_and_change(client, push_settings):
    anna = token(push_settings, "anna")
    query = "{ notificationPreferences { category enabled } }"
    before = (await gql(client, query, bearer=anna))["data"]["notificationPreferences"]
    assert before == [
        {"category": "TRANSACTIONAL", "enabled": True},
        {"category": "MARKETING", "enabled": False},
        {"category": "PARTNER_OFFERS", "enabled": False},
    ]
    change = """mutation { notificationPreferenceSet(input: {category: MARKETING, enabled: true})
      { preferences { category enabled } } }"""
    after = (await gql(client, change, bearer=anna))["data"]["notificationPreferenceSet"]
    assert {"category": "MARKETING", "enabled": True} in after["preferences"]


async def test_segment_preview_counts_and_checks_the_rule(client, push_settings, db):
    for n in range(3):
        await customer_with_device(db, f"c{n}", device_token(n), points=100 * (n + 1))
    preview = """query ($rule: JSON!) { segmentPreview(rule: $rule, sampleSize: 2) {
      size sampleExternalIds } }"""
    boss = token(push_settings, "boss", Role.MARKETING)
    rule = {"balance": {"currency": "POINTS", "min": 150}}
    found = await gql(client, preview, {"rule": rule}, bearer=boss)
    assert found["data"]["segmentPreview"] == {"size": 2, "sampleExternalIds": ["c1", "c2"]}
    bad = await gql(client, preview, {"rule": {"and": [{"city": "Kazan"}]}}, bearer=boss)
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert "and[0].city" in bad["errors"][0]["message"]
    customer = await gql(client, preview, {"rule": rule}, bearer=token(push_settings, "c0"))
    assert error_codes(customer) == ["FORBIDDEN"]


async def make_segment(client, boss: str, name: str = "everyone") -> str:
    create = """mutation ($name: String!, $rule: JSON!) { segmentCreate(input: {name: $name,
      rule: $rule}) { segment { id } userErrors { code } } }"""
    body = await gql(client, create, {"name": name, "rule": {"marketingOptIn": True}}, bearer=boss)
    return str(body["data"]["segmentCreate"]["segment"]["id"])


async def test_template_errors_are_reported_per_locale_before_anything_is_saved(
    client, push_settings
):
    boss = token(push_settings, "boss", Role.MARKETING)
    segment = await make_segment(client, boss)
    templates = {
        "en": {"title": "Hi {{ name }", "body": "ok"},
        "ru": {"title": "Привет", "body": "{{ nonsense.deep }}"},
    }
    body = await gql(
        client,
        CAMPAIGN,
        {"input": {"name": "x", "segmentId": segment, "templates": templates}},
        bearer=boss,
    )
    payload = body["data"]["campaignCreate"]
    assert payload["campaign"] is None
    assert [(e["locale"], e["field"][-1]) for e in payload["userErrors"]] == [
        ("en", "title"),
        ("ru", "body"),
    ]
    assert all(e["code"] == "INVALID_TEMPLATE" for e in payload["userErrors"])


async def test_a_template_the_sandbox_refuses_is_a_template_error(client, push_settings):
    boss = token(push_settings, "boss", Role.MARKETING)
    segment = await make_segment(client, boss)
    huge = "{% for i in range(1000000000) %}.{% endfor %}"
    templates = {"en": {"title": "Hi", "body": huge}}
    body = await gql(
        client,
        CAMPAIGN,
        {"input": {"name": "loop", "segmentId": segment, "templates": templates}},
        bearer=boss,
    )
    payload = body["data"]["campaignCreate"]
    assert payload["campaign"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_TEMPLATE", ["input", "templates", "en", "body"])
    ]


async def test_a_campaign_from_creation_to_stats(client, push_settings, db, fcm):
    for n in range(3):
        await customer_with_device(db, f"c{n}", device_token(n))
    fcm.fail(device_token(2), "UNREGISTERED")
    boss = token(push_settings, "boss", Role.MARKETING)
    segment = await make_segment(client, boss)
    templates = {"en": {"title": "Hello", "body": "{{ balances.POINTS }} points"}}
    made = await gql(
        client,
        CAMPAIGN,
        {
            "input": {
                "name": "Autumn",
                "segmentId": segment,
                "templates": templates,
                "quietHoursStart": "00:00",
                "quietHoursEnd": "00:00",
            }
        },
        bearer=boss,
    )
    campaign_id = made["data"]["campaignCreate"]["campaign"]["id"]

    test_send = """mutation ($id: ID!, $tokens: [String!]!) { campaignTestSend(input: {
      campaignId: $id, tokens: $tokens}) { results { token sent code title body } } }"""
    tried = await gql(
        client, test_send, {"id": campaign_id, "tokens": [device_token(0)]}, bearer=boss
    )
    assert tried["data"]["campaignTestSend"]["results"] == [
        {
            "token": device_token(0),
            "sent": True,
            "code": None,
            "title": "Hello",
            "body": "100 points",
        }
    ]
    dry = "mutation ($id: ID!) { campaignDryRun(input: {campaignId: $id}) { results { sent } } }"
    validated = await gql(client, dry, {"id": campaign_id}, bearer=boss)
    assert len(validated["data"]["campaignDryRun"]["results"]) == 3
    assert len(fcm.validated) == 2  # token 2's scripted failure answered the dry run
    assert fcm.tokens() == [device_token(0)]  # only the test send was delivered

    fcm.fail(device_token(2), "UNREGISTERED")
    sender = client.app.state.push_sender
    await start_due_campaigns(db, utcnow())
    while (await deliver(db, sender, push_settings, utcnow())).claimed:
        pass
    stats = (await gql(client, STATS, {"id": campaign_id}, bearer=boss))["data"]["campaign"]
    assert stats == {
        "status": "DONE",  # the last pass found nothing left
        "stats": {
            "targeted": 3,
            "pending": 0,
            "sent": 2,
            "failed": 1,
            "failedByReason": [{"reason": "UNREGISTERED", "count": 1}],
            "deferredByQuietHours": 0,
            "capped": 0,
        },
    }


async def test_a_scheduled_campaign_can_be_cancelled_and_sends_nothing(
    client, push_settings, db, fcm
):
    await customer_with_device(db, "c0", device_token(0))
    boss = token(push_settings, "boss", Role.MARKETING)
    segment = await make_segment(client, boss)
    values = {
        "name": "Winter",
        "segmentId": segment,
        "templates": {"en": {"title": "Hi", "body": "Hello"}},
        "quietHoursStart": "00:00",
        "quietHoursEnd": "00:00",
    }
    made = await gql(client, CAMPAIGN, {"input": values}, bearer=boss)
    campaign_id = made["data"]["campaignCreate"]["campaign"]["id"]
    cancel = """mutation ($id: ID!) { campaignCancel(input: {id: $id}) {
      campaign { status } userErrors { code } } }"""
    support = token(push_settings, "sam", Role.SUPPORT)
    denied = await gql(client, cancel, {"id": campaign_id}, bearer=support)
    assert error_codes(denied) == ["FORBIDDEN"]
    cancelled = await gql(client, cancel, {"id": campaign_id}, bearer=boss)
    assert cancelled["data"]["campaignCancel"] == {
        "campaign": {"status": "CANCELLED"},
        "userErrors": [],
    }
    await start_due_campaigns(db, utcnow())
    assert (await deliver(db, client.app.state.push_sender, push_settings, utcnow())).claimed == 0
    assert fcm.tokens() == []
    unknown = encode_id("Campaign", 10**9)
    missing = await gql(client, cancel, {"id": unknown}, bearer=boss)
    assert missing["data"]["campaignCancel"]["userErrors"][0]["code"] == "NOT_FOUND"
    malformed = await gql(client, cancel, {"id": "nope"}, bearer=boss)
    assert (malformed["data"], error_codes(malformed)) == (None, ["BAD_USER_INPUT"])
