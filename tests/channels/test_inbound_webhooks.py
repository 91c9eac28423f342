"""Inbound webhooks: an outside system calls the hook's URL with a JSON body naming a subscriber,
and the hook's sub flow runs for them with the body's keys as `webhook.<key>` variables. The
subscriber here is reached through the API channel, whose webhook is a sink on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import secrets
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
from konversation.channels import setup
from konversation.channels.models import ChannelType
from konversation.db import session_scope, utcnow
from konversation.flows import service as flows
from konversation.flows.models import InboundWebhook
from konversation.runtime.models import Run
from konversation.settings import Settings
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import Subscriber

FLOW = {
    "version": 1,
    "start": "shipped",
    "nodes": [
        {
            "id": "shipped",
            "type": "send_message",
            "messages": [
                {
                    "type": "text",
                    "text": "{{first_name}}, order {{webhook.order_id}} has shipped "
                    "({{webhook.items}}).",
                }
            ],
        }
    ],
}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await app.state.runtime.http.aclose()
    await app.state.engine.dispose()


@pytest.fixture
async def hook(sessions: Sessions, tenant: Tenant, fake_webhook: FakeWebhook) -> InboundWebhook:
    """An active hook of the tenant's bot starting "Order shipped"; the bot is connected to the
    owner's system through the API channel."""
    async with session_scope(sessions) as session:
        flow = await flows.create_flow(
            session, tenant.bot_id, name="Order shipped", definition=FLOW
        )
        await setup.connect_api(session, tenant.bot_id, webhook_url=f"{fake_webhook.url}/out")
        made = InboundWebhook(
            bot_id=tenant.bot_id,
            hook_uid=secrets.token_urlsafe(24),
            name="Order shipped",
            sub_flow_number=flow.number,
            status="active",
        )
        session.add(made)
    return made


@pytest.fixture
async def customer(sessions: Sessions, tenant: Tenant) -> Subscriber:
    async with session_scope(sessions) as session:
        return await subscribers.create_on_channel(
            session,
            tenant.bot_id,
            channel=ChannelType.API,
            user_id="customer-42",
            first_name="Grace",
        )


async def call(client: httpx.AsyncClient, hook_uid: str, body: Any) -> httpx.Response:
    return await client.post(f"/webhooks/inbound/{hook_uid}", json=body)


def sent_texts(fake: FakeWebhook) -> list[str]:
    return [event["message"]["text"] for event in fake.events()]


async def test_starts_the_sub_flow_with_the_body_as_variables(
    app: FastAPI,
    client: httpx.AsyncClient,
    hook: InboundWebhook,
    customer: Subscriber,
    fake_webhook: FakeWebhook,
    session: AsyncSession,
) -> None:
    body = {"user_id": "customer-42", "order_id": "A-1001", "items": ["tea", "cups"]}
    response = await call(client, hook.hook_uid, body)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    await app.state.runtime.settle()
    assert sent_texts(fake_webhook) == ["Grace, order A-1001 has shipped (tea, cups)."]
    [run] = (await session.scalars(select(Run))).all()
    assert run.origin == "webhook"
    assert run.variables["webhook.order_id"] == "A-1001"


async def test_names_the_subscriber_by_user_ns(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    hook: InboundWebhook,
    customer: Subscriber,
    fake_webhook: FakeWebhook,
) -> None:
    user_ns = f"f{tenant.bot_id}u{customer.number}"
    response = await call(client, hook.hook_uid, {"user_ns": user_ns, "order_id": 7})
    assert response.status_code == 200
    await app.state.runtime.settle()
    assert sent_texts(fake_webhook) == ["Grace, order 7 has shipped ()."]


@pytest.mark.parametrize(
    "body",
    [{"user_id": "nobody", "order_id": 1}, {"user_ns": "f999u1"}],
    ids=["unknown user_id", "user_ns of another bot"],
)
async def test_an_unknown_subscriber_is_404(
    client: httpx.AsyncClient, hook: InboundWebhook, customer: Subscriber, body: dict[str, Any]
) -> None:
    response = await call(client, hook.hook_uid, body)
    assert (response.status_code, response.json()) == (404, {"message": "Subscriber not found"})


@pytest.mark.parametrize("body", [{"order_id": 1}, ["customer-42"], None])
async def test_a_body_naming_nobody_is_422(
    client: httpx.AsyncClient, hook: InboundWebhook, session: AsyncSession, body: Any
) -> None:
    response = await call(client, hook.hook_uid, body)
    assert response.status_code == 422
    assert await session.scalar(select(Run.id)) is None


async def test_an_unknown_or_inactive_hook_is_404(
    client: httpx.AsyncClient,
    sessions: Sessions,
    hook: InboundWebhook,
    customer: Subscriber,
    session: AsyncSession,
) -> None:
    body = {"user_id": "customer-42"}
    unknown = await call(client, "no-such-hook", body)
    assert (unknown.status_code, unknown.json()) == (404, {"message": "Webhook not found"})
    async with session_scope(sessions) as writing:
        (await writing.get_one(InboundWebhook, hook.id)).status = "inactive"
    assert (await call(client, hook.hook_uid, body)).status_code == 404
    assert await session.scalar(select(Run.id)) is None


async def test_a_paused_bot_refuses_with_409(
    client: httpx.AsyncClient,
    sessions: Sessions,
    hook: InboundWebhook,
    customer: Subscriber,
    session: AsyncSession,
) -> None:
    async with session_scope(sessions) as writing:
        paused = await writing.get_one(Subscriber, customer.id)
        paused.paused_until = utcnow() + dt.timedelta(minutes=30)
    response = await call(client, hook.hook_uid, {"user_id": "customer-42"})
    assert response.status_code == 409
    assert response.json()["message"].startswith("The bot is paused for the subscriber until")
    assert await session.scalar(select(Run.id)) is None
