"""`POST /subscriber/send-sms`: a text through the server's SMS gateway (a JSON POST), logged as
a message from the bot; refused for subscribers who cannot be texted."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from builders import Sessions, Tenant, make_subscriber, make_tenant
from fake_webhook import (  # noqa: F401
    FakeWebhook,
    fake_webhook_fixture,
    fake_webhook_server_fixture,
)
from konversation.app import create_app
from konversation.conversations.models import Message
from konversation.settings import Settings
from konversation.subscribers.models import Subscriber
from loopback import closed_port_url

TOKEN = "gateway-token"
SENDER = "Konversation"
OPTED_IN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SEND = "/subscriber/send-sms"


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


def sms_app(settings: Settings, url: str) -> FastAPI:
    update = {"sms_gateway_url": url, "sms_gateway_token": SecretStr(TOKEN), "sms_sender": SENDER}
    return create_app(settings.model_copy(update=update))


@pytest.fixture(scope="session")
def texting_app(
    settings: Settings, engine: AsyncEngine, fake_webhook_server: FakeWebhook
) -> FastAPI:
    return sms_app(settings, f"{fake_webhook_server.url}/sms")


async def client_of(app: FastAPI, tenant: Tenant) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {tenant.token}", "Accept": "application/json"}
    return httpx.AsyncClient(transport=transport, base_url="http://testserver/api", headers=headers)


@pytest.fixture
async def texter(texting_app: FastAPI, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    """The tenant's key on an app whose SMS gateway is the fake webhook."""
    async with await client_of(texting_app, tenant) as client:
        yield client


async def reachable(session: AsyncSession, tenant: Tenant, **columns: Any) -> Subscriber:
    columns = {"phone": "+61 400 000 000", "opted_in_sms_at": OPTED_IN, **columns}
    return await make_subscriber(session, tenant.bot_id, **columns)


async def logged(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(Message))
    return count or 0


class TestSendSms:
    async def test_posts_the_text_to_the_gateway_with_its_token(
        self,
        texter: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_webhook: FakeWebhook,
    ) -> None:
        subscriber = await reachable(session, tenant)
        body = {"user_ns": ns(subscriber), "content": "Your code is 1234."}
        response = await texter.post(SEND, json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        [sent] = fake_webhook.received
        assert sent.path == "/sms"
        assert sent.headers["authorization"] == f"Bearer {TOKEN}"
        assert sent.json == {"to": "+61400000000", "from": SENDER, "text": "Your code is 1234."}

    async def test_the_sms_shows_in_the_chat_messages_as_the_bots(
        self,
        texter: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_webhook: FakeWebhook,
    ) -> None:
        subscriber = await reachable(session, tenant)
        assert (
            await texter.post(SEND, json={"user_ns": ns(subscriber), "content": "Hi"})
        ).is_success
        params = {"user_ns": ns(subscriber), "include_bot": "1"}
        [row] = (await texter.get("/subscriber/chat-messages", params=params)).json()["data"]
        assert (row["type"], row["msg_type"], row["content"]) == ("out", "sms", "Hi")
        assert row["payload"]["text"] == "Hi"

    async def test_an_unknown_subscriber_is_not_found(
        self, texter: httpx.AsyncClient, tenant: Tenant, fake_webhook: FakeWebhook
    ) -> None:
        response = await texter.post(
            SEND, json={"user_ns": f"f{tenant.bot_id}u999", "content": "Hi"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert fake_webhook.received == []

    async def test_a_subscriber_of_another_bot_is_not_found_and_not_texted(
        self,
        texter: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        fake_webhook: FakeWebhook,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await reachable(session, other)
        response = await texter.post(SEND, json={"user_ns": ns(stranger), "content": "Hi"})
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert fake_webhook.received == []
        assert await logged(session) == 0

    @pytest.mark.parametrize(
        ("columns", "message"),
        [
            ({"phone": None, "email": "sam@example.com"}, "The subscriber has no phone number."),
            ({"opted_in_sms_at": None}, "The subscriber has not opted in to SMS."),
            ({"is_subscribed": False}, "The subscriber has unsubscribed from the bot."),
        ],
        ids=["no phone", "not opted in", "unsubscribed"],
    )
    async def test_a_subscriber_who_cannot_be_texted_is_refused_on_user_ns(
        self,
        columns: dict[str, Any],
        message: str,
        texter: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_webhook: FakeWebhook,
    ) -> None:
        subscriber = await reachable(session, tenant, **columns)
        response = await texter.post(SEND, json={"user_ns": ns(subscriber), "content": "Hi"})
        assert response.status_code == 422
        assert response.json() == {"message": message, "errors": {"user_ns": [message]}}
        assert fake_webhook.received == []
        assert await logged(session) == 0

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "The content field is required."),
            ({"content": ""}, "The content field is required."),
            ({"content": ["Hi"]}, "The content field must be a string."),
        ],
        ids=["no content", "empty content", "list"],
    )
    async def test_bad_content_is_refused(
        self,
        body: dict[str, Any],
        message: str,
        texter: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_webhook: FakeWebhook,
    ) -> None:
        subscriber = await reachable(session, tenant)
        response = await texter.post(SEND, json={"user_ns": ns(subscriber), **body})
        assert response.status_code == 422
        assert response.json()["errors"] == {"content": [message]}
        assert fake_webhook.received == []

    async def test_a_gateway_error_is_reported_and_nothing_is_logged(
        self,
        texter: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_webhook: FakeWebhook,
    ) -> None:
        subscriber = await reachable(session, tenant)
        fake_webhook.answer_next(503)
        response = await texter.post(SEND, json={"user_ns": ns(subscriber), "content": "Hi"})
        assert response.status_code == 400
        assert response.json() == {
            "message": "The SMS could not be delivered: the SMS gateway answered 503."
        }
        assert await logged(session) == 0

    async def test_an_unreachable_gateway_is_reported(
        self, settings: Settings, session: AsyncSession, tenant: Tenant
    ) -> None:
        subscriber = await reachable(session, tenant)
        async with await client_of(sms_app(settings, closed_port_url()), tenant) as client:
            response = await client.post(SEND, json={"user_ns": ns(subscriber), "content": "Hi"})
        assert response.status_code == 400
        assert response.json() == {
            "message": "The SMS could not be delivered: "
            "the SMS gateway could not be reached (ConnectError)."
        }
        assert await logged(session) == 0

    async def test_a_server_without_a_gateway_says_how_to_configure_it(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        subscriber = await reachable(session, tenant)
        response = await api.post(SEND, json={"user_ns": ns(subscriber), "content": "Hi"})
        assert response.status_code == 400
        assert response.json() == {
            "message": "SMS is not configured on this server: set KONVERSATION_SMS_GATEWAY_URL."
        }
