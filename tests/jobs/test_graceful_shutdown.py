"""A `konversation worker` told to stop (SIGTERM) finishes the work in hand before it exits: a
message it was sending when the signal came is delivered and recorded as sent, not left leased
for another worker to send again."""

from __future__ import annotations

import asyncio
import signal

from job_processes import job_processes, wait_until
from sqlalchemy import select

from builders import Sessions, Tenant, connect_api_channel, make_subscriber
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.channels.base import Text
from konversation.channels.models import ChannelType
from konversation.db import session_scope
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.settings import Settings

HOOK = "/graceful-sink"
SLOW_ANSWER_SECONDS = 2.0


async def test_a_stopped_worker_delivers_the_message_it_was_sending_then_exits(
    settings: Settings,
    engine: object,
    sessions: Sessions,
    tenant: Tenant,
    fake_webhook: FakeWebhook,
) -> None:
    await connect_api_channel(sessions, tenant.bot_id, f"{fake_webhook.url}{HOOK}")
    async with session_scope(sessions) as session:
        sam = await make_subscriber(session, tenant.bot_id, channel=ChannelType.API)
    fake_webhook.answer_next(204, delay=SLOW_ANSWER_SECONDS)
    async with job_processes(settings, lease_seconds=60) as start:
        await start("scheduler")
        worker = await start("worker")
        sender = Runtime(settings, engine)  # type: ignore[arg-type]
        try:
            async with session_scope(sessions) as session:
                await sender.engine.send(
                    session, sam, [Text("Your parcel is on its way.")], origin="api"
                )
        finally:
            await sender.http.aclose()
        await wait_until(lambda: fake_webhook.received, "the worker to start sending")
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(worker.wait(), 30)

    assert code == 0
    assert len(fake_webhook.events(HOOK)) == 1
    async with sessions() as session:
        [delivery] = (await session.scalars(select(Delivery))).all()
    assert (delivery.status, delivery.leased_until) == (DeliveryStatus.SENT, None)
