"""Helpers of the flow engine tests: flows saved through the flow service, inbound messages
handed to the app's engine, and what came out of it (deliveries, the message log, runs, the
subscriber's tags and fields).

A test module asks for the `bench` fixture after importing it:

    from engine_helpers import Bench, bench_fixture  # noqa: F401

and, to see the HTTP calls flows make, for `http_sink` (`http_sink_fixture`, `http_sink_server`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from konversation.channels.base import InboundMessage, Profile
from konversation.channels.models import ChannelType
from konversation.conversations.models import Message
from konversation.db import session_scope, utcnow
from konversation.flows import service as flows
from konversation.flows.models import Field, FieldScope, Flow, FlowKind, Tag
from konversation.ids import Kind, format_ns
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Delivery, Run
from konversation.subscribers import attributes
from konversation.subscribers import service as subscribers
from konversation.subscribers.attributes import Pick
from konversation.subscribers.models import Subscriber, SubscriberFieldValue, SubscriberTag
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import Bot, User, Workspace
from loopback import serving

Sessions = async_sessionmaker[AsyncSession]

_message_ids = itertools.count(1)


# Flow documents


def doc(*nodes: dict[str, Any], start: str | None = "", **extra: Any) -> dict[str, Any]:
    """A flow document of `nodes`, starting at the first one unless `start` says otherwise."""
    first = nodes[0]["id"] if nodes else None
    return {"version": 1, "start": first if start == "" else start, "nodes": list(nodes), **extra}


def say(node_id: str, text: str, next: str | None = None, **extra: Any) -> dict[str, Any]:
    """A send_message node with one text."""
    return {
        "id": node_id,
        "type": "send_message",
        "messages": [{"type": "text", "text": text}],
        "next": next,
        **extra,
    }


def start_flow(
    node_id: str, sub_flow_ns: str, next: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"id": node_id, "type": "start_flow", "sub_flow_ns": sub_flow_ns, "next": next, **extra}


def actions(node_id: str, *items: dict[str, Any], next: str | None = None) -> dict[str, Any]:
    return {"id": node_id, "type": "action", "actions": list(items), "next": next}


# The bot under test


class Bench:
    """A bot on the app's runtime, with shortcuts to arrange and to look."""

    def __init__(self, runtime: Runtime, *, workspace_id: int, bot_id: int) -> None:
        self.runtime = runtime
        self.workspace_id = workspace_id
        self.bot_id = bot_id
        self.sessions: Sessions = runtime.sessions

    # Arranging

    async def main(self, definition: dict[str, Any]) -> Flow:
        """Give the bot's main flow `definition`."""
        async with session_scope(self.sessions) as session:
            flow = await flows.main_flow(session, self.bot_id)
            return await flows.save_definition(session, flow, definition)

    async def flow(
        self, definition: dict[str, Any], *, name: str = "Sub", kind: FlowKind = FlowKind.SUB
    ) -> str:
        """A new flow of `kind`; answers its sub_flow_ns."""
        async with session_scope(self.sessions) as session:
            made = await flows.create_flow(
                session, self.bot_id, name=name, kind=kind, definition=definition
            )
            return format_ns(self.bot_id, Kind.SUB_FLOW, made.number)

    async def save(self, sub_flow_ns: str, definition: dict[str, Any]) -> None:
        """Give an existing sub flow a new document."""
        async with session_scope(self.sessions) as session:
            flow = await flows.SUB_FLOWS.by_ns(session, self.bot_id, sub_flow_ns)
            await flows.save_definition(session, flow, definition)

    async def tag(self, name: str) -> str:
        async with session_scope(self.sessions) as session:
            made = await flows.create_tag(session, self.bot_id, name=name)
            return format_ns(self.bot_id, Kind.TAG, made.number)

    async def field(
        self,
        name: str,
        var_type: str = "text",
        *,
        scope: FieldScope = FieldScope.USER,
        value: Any = None,
    ) -> str:
        async with session_scope(self.sessions) as session:
            made = await flows.create_field(
                session, self.bot_id, scope=scope, name=name, var_type=var_type, value=value
            )
            return format_ns(self.bot_id, Kind.FIELD, made.number)

    async def set_field(self, subscriber_id: int, var_ns: str, value: Any) -> None:
        async with session_scope(self.sessions) as session:
            found = await session.get_one(Subscriber, subscriber_id)
            await attributes.set_fields(
                session,
                self.bot_id,
                user_ns=self.user_ns(found),
                fields=Pick.one("var_ns", var_ns),
                values=[value],
            )

    async def add_tag(self, subscriber_id: int, tag_ns: str) -> None:
        async with session_scope(self.sessions) as session:
            found = await session.get_one(Subscriber, subscriber_id)
            await attributes.add_tags(
                session, self.bot_id, user_ns=self.user_ns(found), tags=Pick.one("tag_ns", tag_ns)
            )

    async def update_subscriber(self, subscriber_id: int, **columns: Any) -> None:
        async with session_scope(self.sessions) as session:
            found = await session.get_one(Subscriber, subscriber_id)
            for column, value in columns.items():
                setattr(found, column, value)

    async def update_bot(self, **columns: Any) -> None:
        async with session_scope(self.sessions) as session:
            bot = await session.get_one(Bot, self.bot_id)
            for column, value in columns.items():
                setattr(bot, column, value)

    async def set_time_zone(self, zone: str) -> None:
        async with session_scope(self.sessions) as session:
            workspace = await session.get_one(Workspace, self.workspace_id)
            workspace.timezone = zone

    # Acting

    async def inbound(
        self,
        text: str | None = None,
        *,
        payload: str | None = None,
        user: str = "v1",
        channel: str = ChannelType.WEB,
        profile: Profile | None = None,
        message_id: str | None = None,
    ) -> int:
        """`user` writes `text` (or presses `payload`) on `channel`; answers the subscriber's id."""
        event = InboundMessage(
            user_id=user,
            message_id=message_id or f"m{next(_message_ids)}",
            sent_at=utcnow(),
            text=text,
            payload=payload,
            profile=profile or Profile(),
        )
        async with session_scope(self.sessions) as session:
            found = await self.runtime.engine.receive(session, self.bot_id, channel, event)
            return found.id

    async def start(
        self,
        subscriber_id: int,
        sub_flow_ns: str | None = None,
        *,
        node_id: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> int:
        """Start a sub flow (the main flow without `sub_flow_ns`); answers the run's id."""
        async with session_scope(self.sessions) as session:
            found = await session.get_one(Subscriber, subscriber_id)
            if sub_flow_ns is None:
                flow = await flows.main_flow(session, self.bot_id)
            else:
                flow = await flows.SUB_FLOWS.by_ns(session, self.bot_id, sub_flow_ns)
            run = await self.runtime.engine.start(
                session, found, flow, node_id=node_id, variables=variables
            )
            return run.id

    async def resume_due(self, *, now: dt.datetime) -> int:
        return await self.runtime.engine.resume_due(self.sessions, now=now)

    # Looking

    async def deliveries(self, subscriber_id: int | None = None) -> list[Delivery]:
        query = select(Delivery).where(Delivery.bot_id == self.bot_id).order_by(Delivery.id)
        if subscriber_id is not None:
            query = query.where(Delivery.subscriber_id == subscriber_id)
        async with session_scope(self.sessions) as session:
            return list((await session.scalars(query)).all())

    async def texts(self, subscriber_id: int | None = None) -> list[str]:
        """The texts (or captions) of the messages queued for the subscriber, in order."""
        return [_text_of(d.body) for d in await self.deliveries(subscriber_id)]

    async def last_body(self, subscriber_id: int | None = None) -> dict[str, Any]:
        return (await self.deliveries(subscriber_id))[-1].body

    async def log(self, subscriber_id: int) -> list[tuple[str, str]]:
        """(direction, content) of the subscriber's message log, in order."""
        async with session_scope(self.sessions) as session:
            rows = await session.execute(
                select(Message.direction, Message.content)
                .where(Message.subscriber_id == subscriber_id)
                .order_by(Message.id)
            )
            return [(direction, content) for direction, content in rows.all()]

    async def runs(self, subscriber_id: int | None = None) -> list[Run]:
        query = select(Run).where(Run.bot_id == self.bot_id).order_by(Run.id)
        if subscriber_id is not None:
            query = query.where(Run.subscriber_id == subscriber_id)
        async with session_scope(self.sessions) as session:
            return list((await session.scalars(query)).all())

    async def run(self, run_id: int) -> Run:
        async with session_scope(self.sessions) as session:
            return await session.get_one(Run, run_id)

    async def subscriber(self, subscriber_id: int) -> Subscriber:
        async with session_scope(self.sessions) as session:
            return await session.get_one(Subscriber, subscriber_id)

    async def on_channel(self, user: str, channel: str = ChannelType.WEB) -> Subscriber | None:
        async with session_scope(self.sessions) as session:
            return await subscribers.find_on_channel(session, self.bot_id, channel, user)

    async def tags_of(self, subscriber_id: int) -> set[str]:
        async with session_scope(self.sessions) as session:
            numbers = await session.scalars(
                select(Tag.number)
                .join(SubscriberTag, SubscriberTag.tag_id == Tag.id)
                .where(SubscriberTag.subscriber_id == subscriber_id)
            )
            return {format_ns(self.bot_id, Kind.TAG, n) for n in numbers}

    async def fields_of(self, subscriber_id: int) -> dict[str, Any]:
        """The subscriber's field values by var_ns."""
        async with session_scope(self.sessions) as session:
            rows = await session.execute(
                select(Field.number, SubscriberFieldValue.value)
                .join(SubscriberFieldValue, SubscriberFieldValue.field_id == Field.id)
                .where(SubscriberFieldValue.subscriber_id == subscriber_id)
            )
            return {format_ns(self.bot_id, Kind.FIELD, n): v for n, v in rows.all()}

    async def bot_field(self, var_ns: str) -> Any:
        async with session_scope(self.sessions) as session:
            return (await flows.BOT_FIELDS.by_ns(session, self.bot_id, var_ns)).value

    def user_ns(self, subscriber: Subscriber) -> str:
        return format_ns(self.bot_id, Kind.SUBSCRIBER, subscriber.number)


def _text_of(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"])
    if body["type"] == "cards":
        return " | ".join(card["title"] for card in body["cards"])
    return str(body.get("caption") or body["url"])


def payload_of(body: dict[str, Any], title: str) -> str:
    """The payload of the quick reply or button titled `title` in a delivered message."""
    candidates = [*body.get("quick_replies", []), *body.get("buttons", [])]
    for card in body.get("cards", []):
        candidates.extend(card["buttons"])
    return next(str(c["payload"]) for c in candidates if c["title"] == title and "payload" in c)


@pytest.fixture(name="bench")
async def bench_fixture(app: Any) -> Bench:
    """A workspace with a bot whose main flow is empty, on the app's runtime.

    Its owner is stored without a real password hash and there is no API key: the engine needs
    neither, and hashing passwords would be most of each test's time.
    """
    return await make_bench(app.state.runtime)


async def make_bench(runtime: Runtime) -> Bench:
    """A fresh workspace and bot, with an empty main flow, on `runtime`."""
    async with session_scope(runtime.sessions) as session:
        owner = User(name="Ada Owner", email=f"owner-{uuid.uuid4().hex}@example.com")
        owner.password_hash = "!"  # no password logs in
        session.add(owner)
        await session.flush()
        workspace = await workspaces.create_workspace(session, name="Acme", owner=owner)
        bot = await workspaces.create_bot(session, workspace.id, name="Acme bot")
        await flows.create_flow(session, bot.id, name="Main flow", kind=FlowKind.MAIN)
        return Bench(runtime, workspace_id=workspace.id, bot_id=bot.id)


# An HTTP service the flows call: records every request, answers what it is told per path


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Canned:
    status: int = 200
    body: Any = None  # JSON; a str is sent as plain text


@dataclass
class HttpSink:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    answers: dict[str, deque[Canned]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, status: int = 200, body: Any = None) -> None:
        """The next request to `path` gets `status` and `body` (later ones: 204, no body)."""
        with self.lock:
            self.answers.setdefault(path, deque()).append(Canned(status, body))

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.answers.clear()

    async def receive(self, request: Request) -> Response:
        call = Call(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        with self.lock:
            self.calls.append(call)
            queued = self.answers.get(call.path)
            canned = queued.popleft() if queued else Canned(204)
        if isinstance(canned.body, str):
            return Response(canned.body, status_code=canned.status, media_type="text/plain")
        if canned.body is None:
            return Response(status_code=canned.status)
        return Response(
            json.dumps(canned.body), status_code=canned.status, media_type="application/json"
        )


@pytest.fixture(scope="session", name="http_sink_server")
def http_sink_server_fixture() -> Iterator[HttpSink]:
    sink = HttpSink()
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", sink.receive, methods=methods)])
    with serving(app) as url:
        sink.url = url
        yield sink


@pytest.fixture(name="http_sink")
def http_sink_fixture(http_sink_server: HttpSink) -> HttpSink:
    http_sink_server.reset()
    return http_sink_server
