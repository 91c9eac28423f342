"""A `konversation worker` killed with SIGKILL in the middle of a broadcast loses nothing and
repeats nothing: once a worker is running again and the dead one's leases have run out, every
subscriber has had the sub flow exactly once. A message whose delivery the dead worker had
claimed may reach the receiver a second time, but always under its first event id."""

from __future__ import annotations

import asyncio
import signal
from collections import defaultdict

from job_processes import job_processes, wait_until
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from builders import Sessions, Tenant, connect_api_channel, make_audience
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.db import session_scope
from konversation.flows import service as flows
from konversation.runtime.models import Delivery, DeliveryStatus, Run
from konversation.sending import broadcasts
from konversation.sending.models import Broadcast, BroadcastStatus
from konversation.settings import Settings

AUDIENCE = 10_000
NEWS = ("Our summer sale starts today.", "Reply STOP to unsubscribe.")
HOOK = "/crash-sink"
LEASE_SECONDS = 2
KILL_AFTER_EVENTS = AUDIENCE // 4  # of the 20,000 the broadcast sends


def _news_flow() -> dict[str, object]:
    return {
        "version": 1,
        "start": "m0",
        "nodes": [
            {
                "id": f"m{i}",
                "type": "send_message",
                "messages": [{"type": "text", "text": text}],
                "next": f"m{i + 1}" if i + 1 < len(NEWS) else None,
            }
            for i, text in enumerate(NEWS)
        ],
    }


async def test_a_worker_killed_mid_broadcast_leaves_every_subscriber_reached_exactly_once(
    settings: Settings,
    engine: AsyncEngine,
    sessions: Sessions,
    tenant: Tenant,
    fake_webhook: FakeWebhook,
) -> None:
    await connect_api_channel(sessions, tenant.bot_id, f"{fake_webhook.url}{HOOK}")
    async with session_scope(sessions) as session:
        tag = await flows.create_tag(session, tenant.bot_id, name="Newsletter")
        flow = await flows.create_flow(session, tenant.bot_id, name="News", definition=_news_flow())
        tag_ns, flow_ns = f"f{tenant.bot_id}t{tag.number}", f"f{tenant.bot_id}s{flow.number}"
    await make_audience(engine, tenant.bot_id, tag.id, AUDIENCE)

    def received() -> int:
        return len(fake_webhook.events(HOOK))

    async with job_processes(settings, lease_seconds=LEASE_SECONDS) as start:
        await start("scheduler")
        doomed = await start("worker")
        async with session_scope(sessions) as session:
            await broadcasts.broadcast_to_tags(
                session,
                tenant.bot_id,
                [tag_ns],
                [],
                broadcasts.Request(sub_flow_ns=flow_ns, max_per_minute=broadcasts.MAX_PER_MINUTE),
            )
        await wait_until(lambda: received() >= KILL_AFTER_EVENTS, "the broadcast to get going")
        doomed.kill()
        await doomed.wait()
        at_the_kill = received()
        await start("worker")
        await wait_until(
            lambda: len({e["id"] for e in fake_webhook.events(HOOK)}) >= AUDIENCE * len(NEWS),
            "every message of the broadcast",
        )
        await asyncio.sleep(LEASE_SECONDS + 1)  # anything sent twice would have come by now

    assert doomed.returncode == -signal.SIGKILL
    assert at_the_kill < AUDIENCE * len(NEWS)
    ids_by_user: dict[str, list[str]] = defaultdict(list)
    texts: dict[str, str] = {}
    for event in fake_webhook.events(HOOK):
        assert texts.setdefault(event["id"], event["message"]["text"]) == event["message"]["text"]
        if event["id"] not in ids_by_user[event["user_id"]]:
            ids_by_user[event["user_id"]].append(event["id"])
    assert len(ids_by_user) == AUDIENCE
    assert {tuple(texts[i] for i in ids) for ids in ids_by_user.values()} == {NEWS}
    async with sessions() as session:
        broadcast = await session.scalar(select(Broadcast))
        runs = await session.execute(
            select(Run.subscriber_id, func.count()).group_by(Run.subscriber_id)
        )
        deliveries = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
    assert broadcast is not None
    assert (broadcast.status, broadcast.sent) == (BroadcastStatus.DONE, AUDIENCE)
    runs_per_subscriber = [count for _, count in runs.all()]
    assert (len(runs_per_subscriber), set(runs_per_subscriber)) == (AUDIENCE, {1})
    assert dict(deliveries.all()) == {DeliveryStatus.SENT: AUDIENCE * len(NEWS)}
