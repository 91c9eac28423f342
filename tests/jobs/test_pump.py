"""Background jobs deliver what a commit queued without anyone waiting for them: on the
in-process broker by default, and through Redis to a separate worker when configured."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from builders import Tenant, make_subscriber
from konversation.app import create_app
from konversation.channels.base import Text
from konversation.channels.models import ChannelType
from konversation.db import session_scope
from konversation.jobs.runtime import Runtime
from konversation.jobs.worker import run_worker
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"
DEADLINE_SECONDS = 10


async def queue_greeting(runtime: Runtime, bot_id: int) -> None:
    async with session_scope(runtime.sessions) as session:
        subscriber = await make_subscriber(session, bot_id, channel=ChannelType.WEB)
        await runtime.engine.send(session, subscriber, [Text("Hello")], origin="test")


async def wait_until_sent(runtime: Runtime) -> list[str]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        async with session_scope(runtime.sessions) as session:
            statuses = list(await session.scalars(select(Delivery.status)))
        if statuses and all(status != DeliveryStatus.PENDING for status in statuses):
            return statuses
        await asyncio.sleep(0.02)
    pytest.fail("the message was not delivered in time")


async def test_a_commit_that_queues_a_message_gets_it_delivered_in_process(
    settings: Settings, engine: AsyncEngine, tenant: Tenant
) -> None:
    app = create_app(settings)
    async with LifespanManager(app):
        await queue_greeting(app.state.runtime, tenant.bot_id)

        assert await wait_until_sent(app.state.runtime) == [DeliveryStatus.SENT]


@pytest.fixture
async def redis_settings(settings: Settings) -> AsyncIterator[Settings]:
    queue = f"test-{uuid.uuid4().hex}"
    yield settings.model_copy(update={"redis_url": REDIS_URL, "redis_queue": queue})
    async with Redis.from_url(REDIS_URL) as redis:
        await redis.delete(queue)


@pytest.fixture
async def worker(redis_settings: Settings) -> AsyncIterator[None]:
    task = asyncio.create_task(run_worker(redis_settings))
    yield
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_with_redis_a_separate_worker_delivers_what_the_api_queued(
    redis_settings: Settings, engine: AsyncEngine, tenant: Tenant, worker: None
) -> None:
    app = create_app(redis_settings)
    async with LifespanManager(app):
        await queue_greeting(app.state.runtime, tenant.bot_id)

        assert await wait_until_sent(app.state.runtime) == [DeliveryStatus.SENT]


async def test_pumps_asked_for_together_run_one_at_a_time_and_miss_nothing(
    settings: Settings, engine: AsyncEngine, tenant: Tenant
) -> None:
    runtime = Runtime(settings, engine)
    running = 0
    most = 0
    (kind, deliver), *others = runtime.chores()

    async def counted() -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)  # long enough for the other pumps to be asked for
        try:
            return await deliver()
        finally:
            running -= 1

    runtime.chores = lambda: [(kind, counted), *others]  # type: ignore[method-assign]
    await queue_greeting(runtime, tenant.bot_id)

    done = await asyncio.gather(*(runtime.pump() for _ in range(5)))

    assert most == 1
    assert sorted(done) == [0, 0, 0, 0, 1]
    assert await wait_until_sent(runtime) == [DeliveryStatus.SENT]
    await runtime.http.aclose()
