"""The API channel's inbound endpoint: the owner's system posts its users' messages, signed with
the channel's secret, and gets the bot's answers posted, signed, to its webhook (a sink on
127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.app import create_app
from konversation.channels import api_channel, setup
from konversation.channels.models import BotChannel
from konversation.conversations.models import Direction, Message
from konversation.db import session_scope, utcnow
from konversation.flows import service as flows
from konversation.settings import Settings

GREETING = "Hello {{first_name|there}}, how can I help?"

FLOW = {
    "version": 1,
    "start": "greet",
    "nodes": [
        {"id": "greet", "type": "send_message", "messages": [{"type": "text", "text": GREETING}]}
    ],
}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await app.state.runtime.http.aclose()
    await app.state.engine.dispose()


@pytest.fixture
async def channel(sessions: Sessions, tenant: Tenant, fake_webhook: FakeWebhook) -> BotChannel:
    """The tenant's bot, greeting new subscribers, connected to the owner's webhook."""
    async with session_scope(sessions) as session:
        flow = await flows.create_flow(session, tenant.bot_id, name="Greeting", definition=FLOW)
        await flows.set_default_start_flow(
            session, tenant.bot_id, sub_flow_ns=f"f{tenant.bot_id}s{flow.number}"
        )
        return await setup.connect_api(
            session, tenant.bot_id, webhook_url=f"{fake_webhook.url}/bot-messages"
        )


def signed(secret: str, body: bytes, *, at: dt.datetime | None = None) -> dict[str, str]:
    """The headers the owner's system sends with `body`."""
    timestamp = int((at or utcnow()).timestamp())
    return {
        "Content-Type": "application/json",
        api_channel.TIMESTAMP_HEADER: str(timestamp),
        api_channel.SIGNATURE_HEADER: api_channel.sign(secret, timestamp, body),
    }


async def post_message(
    client: httpx.AsyncClient,
    channel: BotChannel,
    message: Any,
    *,
    secret: str | None = None,
    at: dt.datetime | None = None,
) -> httpx.Response:
    body = json.dumps(message).encode()
    headers = signed(channel.secret if secret is None else secret, body, at=at)
    return await client.post(f"/webhooks/api/{channel.uid}", content=body, headers=headers)


async def test_a_signed_message_gets_the_bots_answer_posted_and_signed(
    app: FastAPI,
    client: httpx.AsyncClient,
    channel: BotChannel,
    fake_webhook: FakeWebhook,
    session: AsyncSession,
) -> None:
    message = {"user_id": "customer-42", "text": "hi", "first_name": "Grace"}
    response = await post_message(client, channel, message)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    await app.state.runtime.settle()
    [received] = fake_webhook.received
    assert received.path == "/bot-messages"
    assert api_channel.verify(channel.secret, received.headers, received.body, now=utcnow())
    [event] = received.json["events"]
    assert event["user_id"] == "customer-42"
    assert event["message"] == {
        "type": "text",
        "text": "Hello Grace, how can I help?",
        "buttons": [],
        "quick_replies": [],
    }
    logged = await session.scalars(select(Message.content).where(Message.direction == Direction.IN))
    assert logged.all() == ["hi"]


async def test_a_message_id_sent_twice_is_answered_once(
    app: FastAPI, client: httpx.AsyncClient, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    message = {"user_id": "customer-42", "text": "hi", "message_id": "m-1"}
    for _ in range(2):
        assert (await post_message(client, channel, message)).status_code == 200
    await app.state.runtime.settle()
    assert len(fake_webhook.received) == 1


@pytest.mark.parametrize(
    ("secret", "age"),
    [("not-the-secret", dt.timedelta()), (None, dt.timedelta(minutes=6))],
    ids=["wrong secret", "too old"],
)
async def test_a_bad_signature_is_refused_and_nothing_happens(
    app: FastAPI,
    client: httpx.AsyncClient,
    channel: BotChannel,
    fake_webhook: FakeWebhook,
    session: AsyncSession,
    secret: str | None,
    age: dt.timedelta,
) -> None:
    message = {"user_id": "customer-42", "text": "hi"}
    response = await post_message(client, channel, message, secret=secret, at=utcnow() - age)
    assert response.status_code == 401
    assert response.json() == {"message": "The request signature is missing, wrong or expired."}
    await app.state.runtime.settle()
    assert fake_webhook.received == []
    assert await session.scalar(select(Message.id)) is None


async def test_an_unsigned_message_is_refused(
    client: httpx.AsyncClient, channel: BotChannel
) -> None:
    response = await client.post(
        f"/webhooks/api/{channel.uid}", json={"user_id": "customer-42", "text": "hi"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        json.dumps({"text": "no user"}).encode(),
        json.dumps({"user_id": "customer-42"}).encode(),
        json.dumps({"user_id": "customer-42", "text": 7}).encode(),
        json.dumps({"user_id": "c", "attachments": [{"type": "pdf", "url": "x"}]}).encode(),
    ],
    ids=["not json", "not an object", "no user", "nothing said", "text no string", "bad file"],
)
async def test_a_malformed_message_is_422(
    client: httpx.AsyncClient, channel: BotChannel, session: AsyncSession, body: bytes
) -> None:
    headers = signed(channel.secret, body)
    response = await client.post(f"/webhooks/api/{channel.uid}", content=body, headers=headers)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"body"}
    assert await session.scalar(select(Message.id)) is None


async def test_an_unknown_or_disconnected_channel_is_404(
    sessions: Sessions,
    tenant: Tenant,
    client: httpx.AsyncClient,
    channel: BotChannel,
    http_client: httpx.AsyncClient,
) -> None:
    message = {"user_id": "customer-42", "text": "hi"}
    unknown = await client.post("/webhooks/api/no-such-channel", json=message)
    assert (unknown.status_code, unknown.json()) == (404, {"message": "Channel not found"})
    async with session_scope(sessions) as session:
        telegram = setup.TelegramApi(http_client, "http://127.0.0.1:9")
        await setup.disconnect(session, tenant.bot_id, channel.type, telegram=telegram)
    assert (await post_message(client, channel, message)).status_code == 404


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client
