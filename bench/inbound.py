"""Inbound latency: messages on the API channel at a fixed rate, each answered by a one-node flow.

The owner's system is played by this process: it POSTs signed messages to the channel's inbound
URL on a fixed schedule (open loop: a late answer never delays the next message), from many
users, some of whom write more than once. Each message is answered by the bot's default start
flow, one send_message node greeting the user and quoting what they said, so every reply names
the message it answers. The replies go to the channel's webhook, a sink in another process that
notes when each arrived. Figures: p50, p99 and max from sending a message to its reply reaching
the sink, how many replies came and whether each says what the flow says to that user.

The same-run baseline is a bare Starlette app, under the same uvicorn flags, that answers each
inbound POST by POSTing the same reply to the same sink itself: the shortest round trip this
machine allows. Every figure is printed with its ratio to the baseline's.

    .venv/bin/python bench/inbound.py                      # SQLite, 200 messages/s for 15 s
    .venv/bin/python bench/inbound.py --rate 400 --seconds 20
    .venv/bin/python bench/inbound.py --postgresql         # a throwaway PostgreSQL database
    .venv/bin/python bench/inbound.py --py-spy inbound.svg # and a py-spy profile of the server
                                                           # (.txt: collapsed stacks)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop
from harness import (
    Server,
    database_name,
    free_port,
    machine_line,
    print_command,
    serving,
    throwaway_database,
    uvicorn_command,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from konversation.channels.api_channel import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from konversation.channels.setup import connect_api
from konversation.db import make_engine, make_session_factory, session_scope
from konversation.flows import service as flows
from konversation.schema import upgrade
from konversation.workspaces import service as workspaces

GREETING = "Hello {{first_name}}, you said {{last_input}}"
SINK_HOOK = "/hook"
INBOUND_PATH = "/webhooks/api/{uid}"
SINK_ENV = "INBOUND_BENCH_SINK"
SERVER_SECRET = "bench"
# Replies still missing this long after the last message are counted as lost.
GRACE_SECONDS = 10.0
WARM_UP_SECONDS = 1.0
REPEAT_SHARE = 0.2


def expected_reply(first_name: str, text: str) -> str:
    """The flow's text for this user and message: GREETING rendered."""
    return f"Hello {first_name}, you said {text}"


# The sink: the channel's webhook, in its own process, noting when each reply arrives.
# time.monotonic is one clock for every process of the machine (CLOCK_MONOTONIC on Linux).


def sink_app() -> Starlette:
    replies: list[tuple[float, str, str]] = []

    async def take(request: Request) -> Response:
        body = await request.body()
        arrived = time.monotonic()
        for event in _events(json.loads(body)):
            replies.append((arrived, str(event["user_id"]), str(event["message"].get("text"))))
        return Response(status_code=204)

    async def listed(_request: Request) -> Response:
        return JSONResponse(replies)

    async def count(_request: Request) -> Response:
        return JSONResponse(len(replies))

    async def clear(_request: Request) -> Response:
        replies.clear()
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route(SINK_HOOK, take, methods=["POST"]),
            Route("/", count),
            Route("/replies", listed),
            Route("/replies", clear, methods=["DELETE"]),
        ]
    )


def _events(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages of one webhook request: a batch of events, or a single message."""
    events: list[dict[str, Any]] = body.get("events", [body])
    return events


# The baseline: answers each message by POSTing its reply to the sink, and nothing else.


def reply_baseline_app() -> Starlette:
    sink = Poster(os.environ[SINK_ENV])

    async def answer(request: Request) -> Response:
        message = json.loads(await request.body())
        reply = {
            "type": "message",
            "id": uuid.uuid4().hex,
            "user_id": message["user_id"],
            "message": {
                "type": "text",
                "text": expected_reply(message["first_name"], message["text"]),
            },
        }
        await sink.post(SINK_HOOK, json.dumps(reply).encode(), {"Content-Type": "application/json"})
        return JSONResponse({"status": "ok"})

    async def ready(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route(INBOUND_PATH, answer, methods=["POST"]), Route("/", ready)],
    )


# The bot


@dataclass(frozen=True)
class Channel:
    uid: str
    secret: str


async def make_bot(url: str, sink: str) -> Channel:
    """A bot whose default start flow is the greeting, reached through the API channel."""
    engine = make_engine(url)
    await upgrade(engine)
    async with session_scope(make_session_factory(engine)) as session:
        owner = await workspaces.create_user(
            session, name="Bench", email="bench@example.com", password="x"
        )
        workspace = await workspaces.create_workspace(session, name="Bench", owner=owner)
        bot = await workspaces.create_bot(session, workspace.id, name="Inbound bench")
        flow = await flows.create_flow(session, bot.id, name="Greeting", definition=_greeting())
        await flows.set_default_start_flow(session, bot.id, sub_flow_ns=f"f{bot.id}s{flow.number}")
        channel = await connect_api(session, bot.id, webhook_url=f"{sink}{SINK_HOOK}")
        found = Channel(channel.uid, channel.secret)
    await engine.dispose()
    return found


def _greeting() -> dict[str, Any]:
    node = {
        "id": "greet",
        "type": "send_message",
        "messages": [{"type": "text", "text": GREETING}],
        "next": None,
    }
    return {"version": 1, "start": "greet", "nodes": [node]}


# The load


@dataclass(frozen=True)
class Planned:
    offset: float  # seconds after the start of the schedule
    user_id: str
    first_name: str
    text: str


@dataclass(frozen=True)
class Sent:
    planned: Planned
    lag: float  # how late it left, against the schedule
    sent_at: float
    answered_in: float
    status: int


def schedule(rate: float, seconds: float, prefix: str, seed: int) -> list[Planned]:
    """`rate` messages a second for `seconds`; a share of them from users who wrote before."""
    pick = random.Random(seed)
    users: list[int] = []
    plan = []
    for index in range(int(rate * seconds)):
        if users and pick.random() < REPEAT_SHARE:
            user = pick.choice(users)
        else:
            user = len(users)
            users.append(user)
        text = f"{prefix}-{index}"
        plan.append(Planned(index / rate, f"{prefix}-user-{user}", f"User{user}", text))
    return plan


class Poster:
    """POSTs over HTTP/1.1 keep-alive connections to one server, opening another whenever all
    are busy: a message leaves on time however slowly answers come (httpx's pool would queue it,
    and its bookkeeping grows with the queue until it stalls the sender)."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self._host, self._port = url.host, url.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """The answer's status; 0 when the connection failed."""
        lines = [f"POST {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        request = "\r\n".join([*lines, *(f"{k}: {v}" for k, v in headers.items()), "", ""])
        reused = bool(self._idle)
        connection = self._idle.pop() if reused else await self._connect()
        try:
            status = await self._exchange(connection, request.encode() + body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection[1].close()
            # An idle connection the server closed meanwhile: the message never left.
            return await self.post(path, body, headers) if reused else 0
        self._idle.append(connection)
        return status

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self._host, self._port)

    @staticmethod
    async def _exchange(
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
    ) -> int:
        reader, writer = connection
        writer.write(request)
        status = int((await reader.readuntil(b"\r\n")).split()[1])
        length = 0
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return status

    def close(self) -> None:
        for _reader, writer in self._idle:
            writer.close()


async def send_all(poster: Poster, path: str, secret: str, plan: Sequence[Planned]) -> list[Sent]:
    started = time.monotonic() + 0.1
    sending = []
    for planned in plan:
        due = started + planned.offset
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        sending.append(asyncio.create_task(send_one(poster, path, secret, planned, due)))
    return list(await asyncio.gather(*sending))


async def send_one(poster: Poster, path: str, secret: str, planned: Planned, due: float) -> Sent:
    body = json.dumps(
        {"user_id": planned.user_id, "first_name": planned.first_name, "text": planned.text}
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    sent_at = time.monotonic()
    status = await poster.post(path, body, headers)
    answered_in = time.monotonic() - sent_at
    return Sent(planned, sent_at - due, sent_at, answered_in, status)


async def collect_replies(
    client: httpx.AsyncClient, sink: str, wanted: int
) -> list[tuple[float, str, str]]:
    """What the sink got once it has `wanted` replies, or after the grace period."""
    give_up = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < give_up:
        if int((await client.get(f"{sink}/")).json()) >= wanted:
            break
        await asyncio.sleep(0.05)
    replies = [(float(at), str(user), str(text)) for at, user, text in await _replies(client, sink)]
    await client.delete(f"{sink}/replies")
    return replies


async def _replies(client: httpx.AsyncClient, sink: str) -> list[list[Any]]:
    listed: list[list[Any]] = (await client.get(f"{sink}/replies")).json()
    return listed


# Figures


@dataclass(frozen=True)
class Result:
    sent: int
    users: int
    refused: int
    replies: int
    wrong: int
    latencies_ms: list[float]
    answers_ms: list[float]
    worst_lag_ms: float


def judge(sent: Sequence[Sent], replies: Sequence[tuple[float, str, str]]) -> Result:
    """Match each reply to the message it quotes; a reply to nothing we sent, to the wrong
    user, or a second reply to the same message, is wrong."""
    by_text = {expected_reply(s.planned.first_name, s.planned.text): s for s in sent}
    answered: set[str] = set()
    latencies, wrong = [], 0
    for arrived, user_id, text in replies:
        origin = by_text.get(text)
        if origin is None or origin.planned.user_id != user_id or text in answered:
            wrong += 1
            continue
        answered.add(text)
        latencies.append((arrived - origin.sent_at) * 1000)
    return Result(
        sent=len(sent),
        users=len({s.planned.user_id for s in sent}),
        refused=sum(1 for s in sent if s.status != 200),
        replies=len(replies),
        wrong=wrong,
        latencies_ms=sorted(latencies),
        answers_ms=sorted(s.answered_in * 1000 for s in sent),
        worst_lag_ms=max(s.lag for s in sent) * 1000,
    )


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


def figures(result: Result) -> dict[str, float]:
    return {
        "reply p50": percentile(result.latencies_ms, 0.50),
        "reply p99": percentile(result.latencies_ms, 0.99),
        "reply max": max(result.latencies_ms, default=float("nan")),
        "answer p50": percentile(result.answers_ms, 0.50),
        "answer p99": percentile(result.answers_ms, 0.99),
    }


def report(name: str, result: Result, baseline: Result | None) -> None:
    counts = (
        f"{result.sent} sent, {result.refused} refused, {result.replies} replies, "
        f"{result.wrong} wrong, {result.sent - result.replies + result.wrong} missing; "
        f"sender at most {result.worst_lag_ms:.1f} ms late"
    )
    print(f"{name}: {counts}")
    ours = figures(result)
    theirs = figures(baseline) if baseline is not None else None
    for label, value in ours.items():
        line = f"  {label:<10} {value:8.2f} ms"
        if theirs is not None:
            line += f"  x{value / theirs[label]:.1f} the baseline"
        print(line)


# Running


@dataclass(frozen=True)
class Load:
    rate: float
    seconds: float
    seed: int


async def measure(
    server: Server, sink: str, channel: Channel, load: Load, profile: str | None
) -> Result:
    """Warm the server up, then send the measured schedule; `profile` names a py-spy file."""
    path = INBOUND_PATH.format(uid=channel.uid)
    poster = Poster(server.base_url)
    async with httpx.AsyncClient(timeout=30) as client:
        warm = schedule(load.rate, WARM_UP_SECONDS, "warm", load.seed)
        await send_all(poster, path, channel.secret, warm)
        await collect_replies(client, sink, len(warm))
        plan = schedule(load.rate, load.seconds, "m", load.seed)
        with py_spy(server.process.pid, profile):
            sent = await send_all(poster, path, channel.secret, plan)
            replies = await collect_replies(client, sink, len(plan))
    poster.close()
    return judge(sent, replies)


@asynccontextmanager
async def serve_sink() -> AsyncIterator[str]:
    port = free_port()
    async with serving(uvicorn_command("inbound:sink_app", port), port) as server:
        yield server.base_url


def serve_reply_baseline(sink: str) -> AbstractAsyncContextManager[Server]:
    port = free_port()
    return serving(uvicorn_command("inbound:reply_baseline_app", port), port, env={SINK_ENV: sink})


def serve_konversation(url: str) -> AbstractAsyncContextManager[Server]:
    """The real server, as `konversation serve` builds it, with the embedded broker."""
    port = free_port()
    env = {
        "KONVERSATION_DATABASE_URL": url,
        "KONVERSATION_SECRET_KEY": SERVER_SECRET,
        "KONVERSATION_REDIS_URL": "",
        "KONVERSATION_LOG_LEVEL": "warning",
    }
    command = uvicorn_command("konversation.app:create_app", port)
    return serving(command, port, env=env, ready_path="/api-docs")


@contextmanager
def py_spy(pid: int, output: str | None) -> Iterator[None]:
    """A py-spy recording of process `pid` while the block runs, into `output` if given."""
    if output is None:
        yield
        return
    command = [_py_spy(), "record", "--pid", str(pid), "--nonblocking", "-o", output]
    recorder = subprocess.Popen(
        [*command, "--format", _PY_SPY_FORMATS.get(Path(output).suffix, "flamegraph")]
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        recorder.wait()


# py-spy's output formats by the file's suffix: collapsed stacks, speedscope, else an SVG.
_PY_SPY_FORMATS = {".txt": "raw", ".json": "speedscope"}


def _py_spy() -> str:
    # Installed next to the venv's Python, or anywhere on PATH.
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else (shutil.which("py-spy") or "py-spy")


async def main(args: argparse.Namespace) -> None:
    load = Load(args.rate, args.seconds, args.seed)
    async with serve_sink() as sink, throwaway_database(args.postgresql) as url:
        channel = await make_bot(url, sink)
        async with serve_reply_baseline(sink) as server:
            baseline = await measure(server, sink, channel, load, None)
        async with serve_konversation(url) as server:
            ours = await measure(server, sink, channel, load, args.py_spy)
    print_command()
    print(machine_line(database_name(url), f"in-process broker; load average {_load()}"))
    print(
        f"{load.rate:g} messages/s for {load.seconds:g} s from {ours.users} users, "
        "each server one uvicorn worker (uvloop, httptools, no access log)"
    )
    report("baseline, bare Starlette POSTing the reply", baseline, None)
    report("Konversation", ours, baseline)


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to send")
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--seed", type=int, default=1, help="who writes when")
    parser.add_argument("--py-spy", metavar="FILE", help="write a py-spy profile of the server")
    return parser.parse_args()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
