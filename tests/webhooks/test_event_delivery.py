"""What happens to a bot reaches the webhooks that listen for it: each event posted once,
signed with the webhook's secret, tried again with backoff until the receiver takes it, kept in
the delivery log, and sent again on request under the same event id."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from builders import Sessions, Tenant, make_field, make_tag
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.channels import api_channel, setup
from konversation.db import session_scope, utcnow
from konversation.jobs.runtime import Runtime
from konversation.webhooks import delivery
from konversation.webhooks.delivery import BACKOFF, MAX_ATTEMPTS

ALL_EVENTS = [
    "subscriber.created",
    "subscriber.tag_added",
    "subscriber.tag_removed",
    "subscriber.field_changed",
    "message.received",
    "order.status_changed",
]


class Hook:
    """A webhook of the tenant's bot, posting to its own path of the sink."""

    def __init__(self, sink: FakeWebhook, path: str, webhook: dict[str, Any]) -> None:
        self.sink, self.path, self.id, self.secret = sink, path, webhook["id"], webhook["secret"]

    @property
    def posts(self) -> list[dict[str, Any]]:
        """The events posted to this webhook, oldest first, each checked to be signed."""
        found = []
        for received in self.sink.received:
            if received.path != self.path:
                continue
            assert api_channel.verify(self.secret, received.headers, received.body, now=utcnow())
            assert received.headers["x-konversation-event-id"] == received.json["id"]
            assert received.headers["x-konversation-event"] == received.json["type"]
            found.append(received.json)
        return found

    def types(self) -> list[str]:
        return [post["type"] for post in self.posts]


async def hook(
    api: httpx.AsyncClient, sink: FakeWebhook, path: str, events: list[str] = ALL_EVENTS
) -> Hook:
    made = await api.post(
        "/event-webhook/create", json={"url": f"{sink.url}{path}", "events": events}
    )
    assert made.status_code == 200, made.text
    return Hook(sink, path, made.json()["data"])


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def new_subscriber(api: httpx.AsyncClient, first_name: str = "Ada") -> str:
    made = await api.post(
        "/subscriber/create", json={"first_name": first_name, "email": f"{first_name}@example.com"}
    )
    assert made.status_code == 200, made.text
    user_ns: str = made.json()["data"]["user_ns"]
    return user_ns


async def deliver_at(runtime: Runtime, moment: dt.datetime) -> int:
    """Post whatever is due at `moment`, as a worker would then."""
    return await delivery.deliver_due(
        runtime.sessions, runtime.http, allowed=runtime.webhook_networks, now=moment
    )


async def deliveries(api: httpx.AsyncClient, **filters: Any) -> list[dict[str, Any]]:
    answer = await api.get("/event-webhook/deliveries", params={"limit": 100, **filters})
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


# The events


async def test_a_new_subscriber_is_announced_with_their_profile(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.created"])
    user_ns = await new_subscriber(api, "Grace")
    await runtime.settle()
    [event] = crm.posts
    assert event["type"] == "subscriber.created"
    assert event["id"].startswith("evt_")
    person = event["data"]["subscriber"]
    assert (person["user_ns"], person["first_name"], person["email"]) == (
        user_ns,
        "Grace",
        "grace@example.com",
    )


async def test_tags_really_added_or_removed_are_announced_one_event_each(
    api: httpx.AsyncClient,
    runtime: Runtime,
    fake_webhook: FakeWebhook,
    sessions: Sessions,
    tenant: Tenant,
) -> None:
    async with sessions() as session:
        vip, news = (
            await make_tag(session, tenant.bot_id, "VIP"),
            await make_tag(session, tenant.bot_id, "News"),
        )
    user_ns = await new_subscriber(api)
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.tag_added", "subscriber.tag_removed"])
    tagging = [("POST", "add-tags"), ("POST", "add-tags"), ("DELETE", "remove-tags")]
    for method, operation in tagging:
        answer = await api.request(
            method,
            f"/subscriber/{operation}",
            json={"user_ns": user_ns, "data": [{"tag_ns": vip}, {"tag_ns": news}]},
        )
        assert answer.status_code == 200, answer.text
    await runtime.settle()
    seen = [(e["type"], e["data"]["tag"]["name"], e["data"]["subscriber"]) for e in crm.posts]
    assert sorted(seen) == sorted(
        [
            ("subscriber.tag_added", "VIP", {"user_ns": user_ns}),
            ("subscriber.tag_added", "News", {"user_ns": user_ns}),
            ("subscriber.tag_removed", "VIP", {"user_ns": user_ns}),
            ("subscriber.tag_removed", "News", {"user_ns": user_ns}),
        ]
    )


async def test_a_field_change_is_announced_with_the_value_before_and_a_repeat_is_not(
    api: httpx.AsyncClient,
    runtime: Runtime,
    fake_webhook: FakeWebhook,
    sessions: Sessions,
    tenant: Tenant,
) -> None:
    async with sessions() as session:
        plan = await make_field(session, tenant.bot_id, "plan")
    user_ns = await new_subscriber(api)
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.field_changed"])
    for value in ("basic", "basic", "gold"):
        answer = await api.put(
            "/subscriber/set-user-field", json={"user_ns": user_ns, "var_ns": plan, "value": value}
        )
        assert answer.status_code == 200, answer.text
    await runtime.settle()
    changes = [
        (e["data"]["field"]["var_ns"], e["data"]["previous_value"], e["data"]["value"])
        for e in crm.posts
    ]
    assert sorted(changes, key=str) == sorted(
        [(plan, None, "basic"), (plan, "basic", "gold")], key=str
    )


async def test_a_message_from_a_subscriber_is_announced(
    api: httpx.AsyncClient,
    client: httpx.AsyncClient,
    runtime: Runtime,
    fake_webhook: FakeWebhook,
    sessions: Sessions,
    tenant: Tenant,
) -> None:
    async with session_scope(sessions) as session:
        channel = await setup.connect_api(
            session, tenant.bot_id, webhook_url=f"{fake_webhook.url}/bot-messages"
        )
    crm = await hook(api, fake_webhook, "/crm", ["message.received", "subscriber.created"])
    body = json.dumps({"user_id": "customer-7", "text": "Where is my order?"}).encode()
    timestamp = int(utcnow().timestamp())
    headers = {
        "Content-Type": "application/json",
        api_channel.TIMESTAMP_HEADER: str(timestamp),
        api_channel.SIGNATURE_HEADER: api_channel.sign(channel.secret, timestamp, body),
    }
    posted = await client.post(f"/webhooks/api/{channel.uid}", content=body, headers=headers)
    assert posted.status_code == 200, posted.text
    await runtime.settle()
    # Events are posted side by side: they may arrive in either order.
    assert sorted(crm.types()) == ["message.received", "subscriber.created"]
    [said] = [post["data"] for post in crm.posts if post["type"] == "message.received"]
    assert said["subscriber"]["user_id"] == "customer-7"
    assert said["channel"] == "apichat"
    assert (said["message"]["type"], said["message"]["text"]) == ("text", "Where is my order?")


async def test_order_status_changes_are_announced(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    user_ns = await new_subscriber(api)
    product = await api.post("/shop/products/create", json={"name": "Mug", "price": 15})
    variant_id = product.json()["data"]["variants"][0]["id"]
    shop = await hook(api, fake_webhook, "/shop", ["order.status_changed"])
    order = await api.post(
        "/shop/orders/create",
        json={
            "user_ns": user_ns,
            "status": "ordered",
            "items": [{"variant_id": variant_id, "qty": 1}],
        },
    )
    assert order.status_code == 200, order.text
    order_id = order.json()["data"]["id"]
    paid = await api.post(
        "/subscriber/update-order-status",
        json={"user_ns": user_ns, "order_id": order_id, "status": "paid"},
    )
    assert paid.status_code == 200, paid.text
    await runtime.settle()
    moves = [
        (e["data"]["order_id"], e["data"]["previous_status"], e["data"]["status"])
        for e in shop.posts
    ]
    assert sorted(moves, key=str) == sorted(
        [(order_id, None, "ordered"), (order_id, "ordered", "paid")], key=str
    )
    assert {post["data"]["subscriber"]["user_ns"] for post in shop.posts} == {user_ns}


async def test_each_webhook_gets_only_the_types_it_listens_for(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    everything = await hook(api, fake_webhook, "/all")
    tags_only = await hook(api, fake_webhook, "/tags", ["subscriber.tag_added"])
    await new_subscriber(api)
    await runtime.settle()
    assert (everything.types(), tags_only.types()) == (["subscriber.created"], [])


async def test_a_refused_request_announces_nothing(
    api: httpx.AsyncClient,
    runtime: Runtime,
    fake_webhook: FakeWebhook,
    sessions: Sessions,
    tenant: Tenant,
) -> None:
    async with sessions() as session:
        vip = await make_tag(session, tenant.bot_id, "VIP")
    user_ns = await new_subscriber(api)
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.tag_added"])
    refused = await api.post(
        "/subscriber/add-tags",
        json={"user_ns": user_ns, "data": [{"tag_ns": vip}, {"tag_ns": "f1t999"}]},
    )
    assert refused.status_code == 422
    await runtime.settle()
    assert crm.posts == []
    assert await deliveries(api) == []


async def test_a_webhook_switched_off_queues_nothing(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.created"])
    off = await api.put("/event-webhook/update", json={"id": crm.id, "active": False})
    assert off.status_code == 200
    await new_subscriber(api)
    await runtime.settle()
    assert (crm.posts, await deliveries(api)) == ([], [])


# Retries, the log and replays


async def test_a_failed_post_is_tried_again_after_the_backoff_under_the_same_event_id(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.created"])
    fake_webhook.answer_next(503)
    await new_subscriber(api)
    await runtime.settle()
    [logged] = await deliveries(api)
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == ("pending", 1, 503)
    assert logged["last_error"] == "The webhook answered 503"

    now = utcnow()
    assert await deliver_at(runtime, now + dt.timedelta(seconds=BACKOFF[0] - 2)) == 0
    assert await deliver_at(runtime, now + dt.timedelta(seconds=BACKOFF[0] + 1)) == 1
    first, again = crm.posts
    assert first == again
    [logged] = await deliveries(api)
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "delivered",
        2,
        204,
    )
    assert logged["delivered_at"] is not None


async def test_a_receiver_that_never_answers_well_fails_the_delivery_after_the_last_attempt(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.created"])
    for _ in range(MAX_ATTEMPTS + 1):
        fake_webhook.answer_next(500)
    await new_subscriber(api)
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS + 2):
        await deliver_at(runtime, moment)
        moment += dt.timedelta(seconds=max(BACKOFF) + 1)
    assert len(crm.posts) == MAX_ATTEMPTS
    [logged] = await deliveries(api, status="failed")
    assert (logged["attempts"], logged["last_status_code"]) == (MAX_ATTEMPTS, 500)


async def test_a_replay_sends_the_event_again_as_a_new_entry_of_the_log(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.created"])
    await new_subscriber(api)
    await runtime.settle()
    [first] = await deliveries(api)
    replayed = await api.post("/event-webhook/replay", json={"delivery_id": first["id"]})
    assert replayed.status_code == 200, replayed.text
    again = replayed.json()["data"]
    assert (again["replay_of"], again["event_id"], again["status"]) == (
        first["id"],
        first["event_id"],
        "pending",
    )
    await runtime.settle()
    assert [post["id"] for post in crm.posts] == [first["event_id"]] * 2
    log = await deliveries(api, webhook_id=crm.id)
    assert [(d["id"], d["status"]) for d in log] == [
        (again["id"], "delivered"),
        (first["id"], "delivered"),
    ]
    missing = await api.post("/event-webhook/replay", json={"delivery_id": again["id"] + 100})
    assert missing.status_code == 404


async def test_a_url_that_has_come_to_lead_somewhere_private_is_not_called(
    api: httpx.AsyncClient, runtime: Runtime, fake_webhook: FakeWebhook
) -> None:
    crm = await hook(api, fake_webhook, "/crm", ["subscriber.created"])
    await new_subscriber(api)
    tried = await delivery.deliver_due(runtime.sessions, runtime.http, allowed=[])
    assert tried == 1
    assert crm.posts == []
    [logged] = await deliveries(api)
    assert logged["status"] == "failed"
    assert "private or reserved address" in logged["last_error"]
