"""How fast a broadcast reaches its audience: a three-message sub flow to every tagged subscriber.

A fresh bot gets N subscribers (bulk inserts), all with one tag and reached through the API
channel, whose webhook is a counting sink served on 127.0.0.1 by another process. The broadcast
is made through the Sending service at the highest pace the API allows, and the jobs run until
the sink has every message: by default the background pump of the embedded runtime (the
in-process broker) in this process; with `--workers N`, N `konversation worker` processes on
Redis (127.0.0.1:6379, a queue of the run's own) and PostgreSQL, this process kicking them as the
scheduler does. Figures: subscribers/s, messages/s, the peak memory of the busiest process, and,
as the same-run baseline, the messages/s the same sink takes from a plain loop of one-message
POSTs, so the ratio compares across machines. The sink also counts what each subscriber got: a
run where anyone got other than the three messages fails.

    .venv/bin/python bench/broadcast.py                          # SQLite, 10,000 subscribers
    .venv/bin/python bench/broadcast.py --subscribers 100000
    .venv/bin/python bench/broadcast.py --postgresql             # a throwaway database on
                                                                 # postgresql://postgres@127.0.0.1
    .venv/bin/python bench/broadcast.py --postgresql --workers 2 # and Redis on 127.0.0.1:6379
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import uvicorn
from harness import free_port, throwaway_database
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from konversation.channels.models import BotChannel, ChannelType
from konversation.db import make_engine, session_scope, utcnow
from konversation.flows import service as flows
from konversation.jobs.runtime import Runtime
from konversation.process import tune_garbage_collector
from konversation.schema import upgrade
from konversation.sending import broadcasts
from konversation.settings import Settings
from konversation.subscribers.models import Subscriber, SubscriberChannel, SubscriberTag
from konversation.workspaces import service as workspaces

MESSAGES = ("Hello {{first_name|there}}!", "Here is our news.", "See you soon.")
BATCH = 5000
REDIS_URL = "redis://127.0.0.1:6379/0"
# This process, and its children once they ended: the workers (and the sink).
PROCESSES = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


# The sink: another process, so that taking messages does not share our event loop


def _sink_app() -> Starlette:
    """Counts the messages posted to /hook (the API channel's events, or one plain message a
    request) and, for the check, how many messages each user got."""
    received = 0
    per_user: Counter[str] = Counter()

    async def take(request: Request) -> Response:
        nonlocal received
        body = json.loads(await request.body())
        for event in body.get("events", [body]):
            received += 1
            if "user_id" in event:
                per_user[event["user_id"]] += 1
        return Response(status_code=204)

    async def count(_request: Request) -> Response:
        return JSONResponse({"received": received, "users": Counter(per_user.values())})

    return Starlette(routes=[Route("/hook", take, methods=["POST"]), Route("/count", count)])


def _serve_sink(port: int) -> None:
    uvicorn.run(_sink_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _received(client: httpx.AsyncClient, sink: str) -> int:
    return int((await client.get(f"{sink}/count")).json()["received"])


async def _wait_for_sink(client: httpx.AsyncClient, sink: str) -> None:
    for _ in range(200):
        try:
            await _received(client, sink)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the sink did not start")


# The bot and its audience


async def fill(engine: AsyncEngine, sessions: Any, size: int, sink: str) -> tuple[int, str, str]:
    """A bot of `size` tagged subscribers on the API channel; answers its id, the tag's id and
    the sub flow's id."""
    async with session_scope(sessions) as session:
        owner = await workspaces.create_user(
            session, name="Bench", email=f"bench-{secrets.token_hex(4)}@example.com", password="x"
        )
        workspace = await workspaces.create_workspace(session, name="Bench", owner=owner)
        bot = await workspaces.create_bot(session, workspace.id, name="Bench bot")
        tag = await flows.create_tag(session, bot.id, name="News")
        flow = await flows.create_flow(session, bot.id, name="News", definition=_news_flow())
        session.add(
            BotChannel(bot_id=bot.id, type=ChannelType.API, config={"webhook_url": f"{sink}/hook"})
        )
        bot_id, tag_id = bot.id, tag.id
        tag_ns, flow_ns = f"f{bot.id}t{tag.number}", f"f{bot.id}s{flow.number}"
    now = utcnow()
    async with engine.begin() as connection:
        for start in range(1, size + 1, BATCH):
            numbers = range(start, min(start + BATCH, size + 1))
            people = [_person(bot_id, number, now) for number in numbers]
            await connection.execute(insert(Subscriber), people)
            ids = (
                await connection.execute(
                    select(Subscriber.id).where(
                        Subscriber.bot_id == bot_id, Subscriber.number.in_(list(numbers))
                    )
                )
            ).scalars()
            rows = list(ids)
            await connection.execute(
                insert(SubscriberChannel),
                [{"subscriber_id": i, "type": ChannelType.API, "user_id": f"u{i}"} for i in rows],
            )
            await connection.execute(
                insert(SubscriberTag),
                [{"subscriber_id": i, "tag_id": tag_id, "created_at": now} for i in rows],
            )
    return bot_id, tag_ns, flow_ns


def _news_flow() -> dict[str, Any]:
    nodes = [
        {
            "id": f"m{i}",
            "type": "send_message",
            "messages": [{"type": "text", "text": text}],
            "next": f"m{i + 1}" if i + 1 < len(MESSAGES) else None,
        }
        for i, text in enumerate(MESSAGES)
    ]
    return {"version": 1, "start": "m0", "nodes": nodes}


def _person(bot_id: int, number: int, now: Any) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "number": number,
        "user_id": f"reader-{number}",
        "first_name": f"Reader{number}",
        "name": f"Reader{number}",
        "status": "open",
        "is_subscribed": True,
        "subscribed_at": now,
        "activity_at": now,
        "created_at": now,
    }


# Measuring


async def baseline(sink: str, count: int) -> float:
    """Messages/s the sink takes from a plain loop of POSTs of a message's size."""
    body = b'{"type":"message","message":{"type":"text","text":"' + b"x" * 120 + b'"}}'
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient() as client:

        async def post() -> None:
            async with gate:
                await client.post(f"{sink}/hook", content=body)

        started = time.perf_counter()
        await asyncio.gather(*(post() for _ in range(count)))
        return count / (time.perf_counter() - started)


async def run_broadcast(
    runtime: Runtime, bot_id: int, tag_ns: str, flow_ns: str, size: int, sink: str, *, here: bool
) -> float:
    """Seconds from asking for the broadcast until the sink holds every message; `here` pumps
    in this process, else the workers do."""
    async with httpx.AsyncClient() as client:
        before = await _received(client, sink)
        started = time.perf_counter()
        async with session_scope(runtime.sessions) as session:
            await broadcasts.broadcast_to_tags(
                session,
                bot_id,
                [tag_ns],
                [],
                broadcasts.Request(sub_flow_ns=flow_ns, max_per_minute=broadcasts.MAX_PER_MINUTE),
            )
        wanted = before + size * len(MESSAGES)
        while await _received(client, sink) < wanted:
            if not here or await runtime.pump() == 0:
                await asyncio.sleep(0.01)
        seconds = time.perf_counter() - started
        got = (await client.get(f"{sink}/count")).json()["users"]
        if got != {str(len(MESSAGES)): size}:
            raise SystemExit(f"wrong: subscribers by messages received: {got}")
        return seconds


def start_workers(count: int, settings: Settings) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_REDIS_URL": str(settings.redis_url),
        "KONVERSATION_REDIS_QUEUE": settings.redis_queue,
        "KONVERSATION_SECRET_KEY": str(settings.secret_key),
    }
    program = os.path.join(os.path.dirname(sys.executable), "konversation")
    return [
        subprocess.Popen([program, "worker"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGINT)
    for worker in workers:
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


async def main(args: argparse.Namespace) -> None:
    if args.workers and not args.postgresql:
        raise SystemExit("--workers needs --postgresql: SQLite is for one process")
    port = free_port()
    sink = f"http://127.0.0.1:{port}"
    sink_process = multiprocessing.Process(target=_serve_sink, args=(port,), daemon=True)
    sink_process.start()
    try:
        async with httpx.AsyncClient() as client:
            await _wait_for_sink(client, sink)
        async with throwaway_database(args.postgresql) as url:
            settings = Settings(
                database_url=url,
                secret_key="bench",
                redis_url=REDIS_URL if args.workers else None,
                redis_queue=f"bench-{secrets.token_hex(4)}",
            )
            engine = make_engine(url)
            await upgrade(engine)
            runtime = Runtime(settings, engine)
            tune_garbage_collector()  # as the server and the workers do
            bot_id, tag_ns, flow_ns = await fill(engine, runtime.sessions, args.subscribers, sink)
            raw = await baseline(sink, min(args.subscribers * len(MESSAGES), 20_000))
            workers = start_workers(args.workers, settings)
            try:
                if args.workers:
                    await runtime.start()  # the ticker that kicks the workers
                seconds = await run_broadcast(
                    runtime, bot_id, tag_ns, flow_ns, args.subscribers, sink, here=not args.workers
                )
            finally:
                stop_workers(workers)
                await runtime.stop()
                await engine.dispose()
    finally:
        sink_process.terminate()
        sink_process.join()
    report(args, url, seconds, raw)


def report(args: argparse.Namespace, url: str, seconds: float, raw: float) -> None:
    messages = args.subscribers * len(MESSAGES)
    peak_mib = max(resource.getrusage(who).ru_maxrss for who in PROCESSES) / 1024
    database_name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {database_name}, "
        + (
            f"Redis broker, {args.workers} worker processes"
            if args.workers
            else "in-process broker, one process"
        )
    )
    print(f"broadcast of {len(MESSAGES)} messages to {args.subscribers} subscribers:")
    print(
        f"  {seconds:.1f} s, {args.subscribers / seconds:,.0f} subscribers/s, "
        f"{messages / seconds:,.0f} messages/s, peak memory {peak_mib:,.0f} MiB"
    )
    print(f"  baseline, plain POSTs to the same sink: {raw:,.0f} messages/s")
    print(f"  ratio, broadcast to baseline: {messages / seconds / raw:.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--workers", type=int, default=0, help="worker processes on Redis")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
