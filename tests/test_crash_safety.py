"""A server killed (SIGKILL) in the middle of a stream of writes leaves the database whole: every
write it acknowledged is there, nothing is half-written, and every kept count is still true."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from builders import Tenant, make_subscriber, make_tag
from konversation.flows.models import Tag
from konversation.settings import Settings
from konversation.subscribers.models import StatusCount, Subscriber, SubscriberTag
from loopback import free_port, until_ready

WRITERS = 8
KILL_AFTER_WRITES = 150


async def _serve(settings: Settings, server_secret: bytes, port: int) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": server_secret.decode(),
        "KONVERSATION_PORT": str(port),
        "KONVERSATION_LOG_LEVEL": "warning",
        **{f"KONVERSATION_RATE_LIMIT_{kind}": "0" for kind in ("READS", "SENDS", "WRITES")},
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "konversation", "serve", "--no-demo", env=env
    )
    if await until_ready(f"http://127.0.0.1:{port}"):
        return process
    process.kill()
    raise RuntimeError("the server did not start")


async def test_a_server_killed_mid_write_keeps_every_acknowledged_write_and_true_counts(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    tenant: Tenant,
    server_secret: bytes,
) -> None:
    async with sessions() as arranging:
        people = [
            (await make_subscriber(arranging, tenant.bot_id, name=f"P{i} X")).id for i in range(30)
        ]
        tags = [await make_tag(arranging, tenant.bot_id, f"T{i}") for i in range(3)]
    port = free_port()
    server = await _serve(settings, server_secret, port)
    created: list[str] = []
    acknowledged = 0
    headers = {"Authorization": f"Bearer {tenant.token}"}
    rng = random.Random(20261202)
    busy = asyncio.Event()

    async def write(api: httpx.AsyncClient) -> None:
        nonlocal acknowledged
        while True:
            user_ns = f"f{tenant.bot_id}u{rng.choice(people)}"
            choice = rng.random()
            try:
                if choice < 0.4:
                    answer = await api.post(
                        "/subscriber/add-tag", json={"user_ns": user_ns, "tag_ns": rng.choice(tags)}
                    )
                elif choice < 0.7:
                    answer = await api.request(
                        "DELETE",
                        "/subscriber/remove-tag",
                        json={"user_ns": user_ns, "tag_ns": rng.choice(tags)},
                    )
                else:
                    answer = await api.post(
                        "/subscriber/create",
                        json={"first_name": "New", "email": f"n{rng.random()}@example.com"},
                    )
                    if answer.status_code == 200:
                        created.append(answer.json()["data"]["user_ns"])
            except httpx.TransportError:
                return  # the server is gone
            acknowledged += answer.status_code == 200
            if acknowledged >= KILL_AFTER_WRITES:
                busy.set()

    async def kill_when_busy() -> None:
        await busy.wait()
        os.kill(server.pid, signal.SIGKILL)

    base = f"http://127.0.0.1:{port}/api"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as api:
        await asyncio.gather(kill_when_busy(), *(write(api) for _ in range(WRITERS)))
    await server.wait()

    assert server.returncode == -signal.SIGKILL
    assert acknowledged >= KILL_AFTER_WRITES
    await session.rollback()
    stored = set(
        await session.scalars(select(Subscriber.number).where(Subscriber.bot_id == tenant.bot_id))
    )
    assert {int(ns.rsplit("u", 1)[1]) for ns in created} <= stored
    for tag in await session.scalars(select(Tag).where(Tag.bot_id == tenant.bot_id)):
        links = await session.scalar(
            select(func.count()).select_from(SubscriberTag).where(SubscriberTag.tag_id == tag.id)
        )
        assert tag.subscriber_count == links, tag.name
    statuses = dict(
        (row.status, row.count)
        for row in await session.execute(
            select(StatusCount.status, StatusCount.count).where(StatusCount.bot_id == tenant.bot_id)
        )
    )
    actual = dict(
        (row.status, row.n)
        for row in await session.execute(
            select(Subscriber.status, func.count().label("n"))
            .where(Subscriber.bot_id == tenant.bot_id)
            .group_by(Subscriber.status)
        )
    )
    assert {k: v for k, v in statuses.items() if v} == actual
    if engine.dialect.name == "sqlite":
        assert (await session.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
        assert (await session.execute(text("PRAGMA foreign_key_check"))).all() == []
