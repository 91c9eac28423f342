"""The distributed set-up end to end: two API processes and two workers (and a scheduler) on
loopback, against PostgreSQL and Redis.

- A broadcast to 20,000 subscribers, during which one worker is killed with SIGKILL and
  another started, reaches every subscriber exactly once.
- A web chat visitor connected to one API process gets a message sent through the other.
- A key revoked through one API process is refused by the other within a second.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections import defaultdict

import httpx
from job_processes import job_processes, wait_until
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from builders import BOTH, Tenant, connect_api_channel, make_audience, make_key, make_tenant
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.channels.service import web_channel
from konversation.db import make_engine, make_session_factory, session_scope
from konversation.flows import service as flows
from konversation.keys.models import ApiKey
from konversation.runtime.models import Run
from konversation.sending.models import Broadcast, BroadcastStatus
from konversation.settings import Settings
from loopback import free_port, until_ready

SECRET = "distributed-test-secret"
AUDIENCE = 20_000
KILL_AFTER_EVENTS = AUDIENCE // 4
HOOK = "/distributed-sink"
LEASE_SECONDS = 2
NEWS = "The summer sale starts today."
OWNER_EMAIL = "owner@distributed.example"
OWNER_PASSWORD = "correct horse battery staple"  # what make_tenant gives its owner
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def _news_flow() -> dict[str, object]:
    return {
        "version": 1,
        "start": "m0",
        "nodes": [
            {"id": "m0", "type": "send_message", "messages": [{"type": "text", "text": NEWS}]}
        ],
    }


async def _newsletter_bot(engine: AsyncEngine, sink: str) -> tuple[Tenant, str, str]:
    """A bot of `AUDIENCE` tagged subscribers on the API channel; its tag and sub flow ids."""
    sessions = make_session_factory(engine)
    tenant = await make_tenant(sessions, SECRET.encode(), email=OWNER_EMAIL)
    async with session_scope(sessions) as session:
        tag = await flows.create_tag(session, tenant.bot_id, name="Newsletter")
        flow = await flows.create_flow(session, tenant.bot_id, name="News", definition=_news_flow())
    await connect_api_channel(sessions, tenant.bot_id, sink)
    await make_audience(engine, tenant.bot_id, tag.id, AUDIENCE)
    return tenant, f"f{tenant.bot_id}t{tag.number}", f"f{tenant.bot_id}s{flow.number}"


async def _chat_through_the_other_process(engine: AsyncEngine, one: str, other: str) -> None:
    """A visitor on `one`'s socket hears what is sent through `other`'s API."""
    sessions = make_session_factory(engine)
    tenant = await make_tenant(sessions, SECRET.encode(), email="chat@distributed.example")
    async with session_scope(sessions) as session:
        uid = (await web_channel(session, tenant.bot_id)).uid
    async with httpx.AsyncClient() as http:
        visitor = (await http.post(f"{one}/webchat/{uid}/visitors")).json()["data"]["visitor"]
        ws_url = one.replace("http://", "ws://") + f"/webchat/{uid}/ws?visitor={visitor}"
        async with connect(ws_url) as visitor_socket:
            said = await http.post(
                f"{one}/webchat/{uid}/messages", json={"visitor": visitor, "text": "Hello?"}
            )
            assert said.status_code == 200, said.text
            headers = {"Authorization": f"Bearer {tenant.token}"}
            [person] = (await http.get(f"{other}/api/subscribers", headers=headers)).json()["data"]
            sent = await http.post(
                f"{other}/api/subscriber/send-text",
                headers=headers,
                json={"user_ns": person["user_ns"], "content": "Sent through the other process"},
            )
            assert sent.status_code == 200, sent.text
            async with asyncio.timeout(30):
                while True:
                    event = json.loads(await visitor_socket.recv())
                    if event.get("message", {}).get("text") == "Sent through the other process":
                        break


async def _revoke_through(base: str, key_id: int) -> None:
    """Revoke a key in the dashboard of the process at `base`, signed in as the bot's owner."""
    async with httpx.AsyncClient(base_url=base) as browser:
        login = CSRF_INPUT.search((await browser.get("/dashboard/login")).text)
        assert login is not None
        signed_in = await browser.post(
            "/dashboard/login",
            data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": login.group(1)},
        )
        assert signed_in.status_code == 303, signed_in.text
        keys_page = CSRF_INPUT.search((await browser.get("/dashboard/keys")).text)
        assert keys_page is not None
        revoked = await browser.post(
            f"/dashboard/keys/{key_id}/revoke", data={"csrf_token": keys_page.group(1)}
        )
        assert revoked.status_code == 303, revoked.text


async def _seconds_until_refused(base: str, token: str) -> float:
    """How long after now the process at `base` starts refusing `token`."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base) as http:
        while (
            await http.get("/api/flow/tags", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200:
            assert time.monotonic() - started < 10, "the key is still accepted"
            await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_two_api_processes_and_two_workers_serve_as_one(
    new_postgresql: str, fake_webhook: FakeWebhook
) -> None:
    settings = Settings(database_url=new_postgresql, secret_key=SECRET)
    one, other = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    engine = make_engine(new_postgresql)
    try:
        async with job_processes(settings, lease_seconds=LEASE_SECONDS) as start:
            for base in (one, other):
                await start("serve", "--no-demo", "--port", base.rsplit(":", 1)[1])
                assert await until_ready(base)
            workers = [await start("worker") for _ in range(2)]
            await start("scheduler")
            tenant, tag_ns, flow_ns = await _newsletter_bot(engine, f"{fake_webhook.url}{HOOK}")

            async with httpx.AsyncClient(
                base_url=f"{one}/api", headers={"Authorization": f"Bearer {tenant.token}"}
            ) as api:
                queued = await api.post(
                    "/subscriber/broadcast-by-tag",
                    json={"tags": [tag_ns], "sub_flow_ns": flow_ns, "max_per_minute": 100_000},
                )
            assert queued.status_code == 200, queued.text

            def received() -> int:
                return len(fake_webhook.events(HOOK))

            await wait_until(lambda: received() >= KILL_AFTER_EVENTS, "the broadcast to go")
            workers[0].kill()
            await workers[0].wait()
            at_the_kill = received()
            await start("worker")

            await _chat_through_the_other_process(engine, one, other)

            async with make_session_factory(engine)() as session:
                doomed = await make_key(session, SECRET.encode(), tenant, permissions=BOTH)
                doomed_id = await session.scalar(
                    select(ApiKey.id).where(
                        ApiKey.id != tenant.key_id, ApiKey.bot_id == tenant.bot_id
                    )
                )
            assert doomed_id is not None
            async with httpx.AsyncClient() as http:
                cached = await http.get(
                    f"{one}/api/flow/tags", headers={"Authorization": f"Bearer {doomed}"}
                )
            assert cached.status_code == 200
            await _revoke_through(other, doomed_id)
            refused_after = await _seconds_until_refused(one, doomed)

            await wait_until(
                lambda: len({e["id"] for e in fake_webhook.events(HOOK)}) >= AUDIENCE,
                "every message of the broadcast",
            )
            await asyncio.sleep(LEASE_SECONDS + 1)  # anything sent twice would have come by now

        assert workers[0].returncode == -signal.SIGKILL
        assert at_the_kill < AUDIENCE
        assert refused_after <= 1.2
        ids_by_user: dict[str, set[str]] = defaultdict(set)
        for event in fake_webhook.events(HOOK):
            assert event["message"]["text"] == NEWS
            ids_by_user[event["user_id"]].add(event["id"])
        assert len(ids_by_user) == AUDIENCE
        assert {len(ids) for ids in ids_by_user.values()} == {1}
        async with make_session_factory(engine)() as session:
            broadcast = await session.scalar(select(Broadcast))
            runs = (
                await session.execute(
                    select(Run.subscriber_id, func.count())
                    .where(Run.bot_id == tenant.bot_id)
                    .group_by(Run.subscriber_id)
                )
            ).all()
        assert broadcast is not None
        assert (broadcast.status, broadcast.sent) == (BroadcastStatus.DONE, AUDIENCE)
        assert (len(runs), {count for _, count in runs}) == (AUDIENCE, {1})
    finally:
        await engine.dispose()
