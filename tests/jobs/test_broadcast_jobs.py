"""A broadcast asked for through the API reaches every tagged subscriber exactly once, sent by
the background jobs alone: on the in-process broker, and through Redis by a separate worker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from builders import Sessions, Tenant, connect_api_channel, make_subscriber
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.app import create_app
from konversation.channels.models import ChannelType
from konversation.db import session_scope
from konversation.flows import service as flows
from konversation.jobs.worker import run_worker
from konversation.settings import Settings
from konversation.subscribers import attributes
from konversation.subscribers.attributes import Pick

REDIS_URL = "redis://127.0.0.1:6379/0"
AUDIENCE = 40
DEADLINE_SECONDS = 20
HOOK = "/broadcast-sink"


@pytest.fixture
async def tagged_audience(
    sessions: Sessions, tenant: Tenant, fake_webhook: FakeWebhook
) -> dict[str, str]:
    """A tag on AUDIENCE subscribers reached through the API channel, and a two-message flow."""
    await connect_api_channel(sessions, tenant.bot_id, f"{fake_webhook.url}{HOOK}")
    async with session_scope(sessions) as session:
        tag = await flows.create_tag(session, tenant.bot_id, name="Newsletter")
        tag_ns = f"f{tenant.bot_id}t{tag.number}"
        for _ in range(AUDIENCE):
            subscriber = await make_subscriber(session, tenant.bot_id, channel=ChannelType.API)
            await attributes.add_tags(
                session,
                tenant.bot_id,
                user_ns=f"f{tenant.bot_id}u{subscriber.number}",
                tags=Pick.one("tag_ns", tag_ns),
            )
        flow = await flows.create_flow(
            session,
            tenant.bot_id,
            name="News",
            definition={
                "version": 1,
                "start": "one",
                "nodes": [
                    {
                        "id": "one",
                        "type": "send_message",
                        "next": "two",
                        "messages": [{"type": "text", "text": "News, part one"}],
                    },
                    {
                        "id": "two",
                        "type": "send_message",
                        "messages": [{"type": "text", "text": "News, part two"}],
                    },
                ],
            },
        )
    return {"tags": [tag_ns], "sub_flow_ns": f"f{tenant.bot_id}s{flow.number}"}


async def broadcast_and_wait(
    settings: Settings, tenant: Tenant, body: dict[str, object], webhook: FakeWebhook
) -> Counter[str]:
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {tenant.token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api", headers=headers
        ) as api:
            answer = await api.post(
                "/subscriber/broadcast-by-tag", json={**body, "max_per_minute": 100000}
            )
            assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + DEADLINE_SECONDS
        # The sink is another server: poll it, with a deadline.
        while len(webhook.received) < 2 * AUDIENCE and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # anything sent twice would arrive by now
    return Counter(f"{e['user_id']}: {e['message']['text']}" for e in webhook.events())


def assert_everyone_got_it_once(received: Counter[str]) -> None:
    recipients = {line.split(": ")[0] for line in received}
    assert len(recipients) == AUDIENCE
    assert received == Counter(
        f"{recipient}: News, part {part}" for recipient in recipients for part in ("one", "two")
    )


async def test_the_in_process_jobs_send_a_broadcast_to_everyone_once(
    settings: Settings,
    engine: AsyncEngine,
    tenant: Tenant,
    tagged_audience: dict[str, str],
    fake_webhook: FakeWebhook,
) -> None:
    received = await broadcast_and_wait(settings, tenant, tagged_audience, fake_webhook)

    assert_everyone_got_it_once(received)


@pytest.fixture
async def redis_settings(settings: Settings) -> AsyncIterator[Settings]:
    queue = f"test-{uuid.uuid4().hex}"
    yield settings.model_copy(update={"redis_url": REDIS_URL, "redis_queue": queue})
    async with Redis.from_url(REDIS_URL) as redis:
        await redis.delete(queue)


async def test_redis_workers_send_a_broadcast_to_everyone_once(
    redis_settings: Settings,
    engine: AsyncEngine,
    tenant: Tenant,
    tagged_audience: dict[str, str],
    fake_webhook: FakeWebhook,
) -> None:
    workers = [asyncio.create_task(run_worker(redis_settings)) for _ in range(2)]
    try:
        received = await broadcast_and_wait(redis_settings, tenant, tagged_audience, fake_webhook)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    assert_everyone_got_it_once(received)
