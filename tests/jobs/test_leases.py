"""Work claimed by a worker that dies mid-way is taken over once its lease runs out, and not
before: the message goes out again under the same event id, so the receiver can tell."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from builders import Sessions, Tenant, connect_api_channel, make_subscriber
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.channels.base import Text
from konversation.channels.models import ChannelType
from konversation.db import session_scope
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.settings import Settings

HOOK = "/lease-sink"


async def test_a_dead_workers_messages_go_out_once_its_lease_has_run_out(
    settings: Settings,
    engine: AsyncEngine,
    sessions: Sessions,
    tenant: Tenant,
    fake_webhook: FakeWebhook,
) -> None:
    short = settings.model_copy(update={"lease_seconds": 1})
    await connect_api_channel(sessions, tenant.bot_id, f"{fake_webhook.url}{HOOK}")
    async with session_scope(sessions) as session:
        sam = await make_subscriber(session, tenant.bot_id, channel=ChannelType.API)
    dying, taking_over = Runtime(short, engine), Runtime(short, engine)
    try:
        async with session_scope(dying.sessions) as session:
            await dying.engine.send(session, sam, [Text("Your order shipped.")], origin="api")
        fake_webhook.answer_next(204, delay=3)  # the worker dies while this request hangs
        pump = asyncio.create_task(dying.pump())
        while not fake_webhook.received:  # noqa: ASYNC110 - the sink is another server
            await asyncio.sleep(0.01)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        while_leased = await taking_over.pump()
        await asyncio.sleep(1.2)
        after_lease = await taking_over.pump()
    finally:
        for runtime in (dying, taking_over):
            await runtime.http.aclose()

    assert (while_leased, after_lease) == (0, 1)
    first, again = fake_webhook.events(HOOK)
    assert first["id"] == again["id"]
    assert again["message"]["text"] == "Your order shipped."
    async with sessions() as session:
        [delivery] = (await session.scalars(select(Delivery))).all()
    assert delivery.status == DeliveryStatus.SENT
