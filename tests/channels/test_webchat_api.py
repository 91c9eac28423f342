"""The web chat's endpoints: page, widget, visitors, history, messages, WebSocket and SSE.

The app runs in this test's event loop (WebSocket and event stream included, through the small
ASGI drivers below), so `runtime.settle()` delivers the bot's answers to the open connections
deterministically.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import Tenant, make_bot
from konversation.channels.service import web_channel
from konversation.conversations.models import Direction, Message
from konversation.db import session_scope
from konversation.flows import service as flows
from konversation.flows.document import FORMAT_VERSION
from konversation.flows.models import FlowKind
from konversation.subscribers.models import Subscriber, SubscriberChannel

GREETING = "Hello! How can I help?"
HOURS = "We are open 9 to 5."
WAIT_SECONDS = 5.0


def chat_flow() -> dict[str, Any]:
    """Greets with a url button and two quick replies: opening hours, or a card of plans."""
    return {
        "version": FORMAT_VERSION,
        "start": "greeting",
        "nodes": [
            {
                "id": "greeting",
                "type": "send_message",
                "messages": [
                    {
                        "type": "text",
                        "text": GREETING,
                        "buttons": [
                            {
                                "id": "site",
                                "title": "Our site",
                                "action": {"type": "url", "url": "https://example.com/"},
                            }
                        ],
                    }
                ],
                "quick_replies": [
                    {"id": "hours", "title": "Opening hours", "next": "hours"},
                    {"id": "plans", "title": "Plans", "next": "plans"},
                ],
            },
            {
                "id": "hours",
                "type": "send_message",
                "messages": [{"type": "text", "text": HOURS}],
            },
            {
                "id": "plans",
                "type": "send_message",
                "messages": [
                    {
                        "type": "cards",
                        "cards": [
                            {
                                "title": "Basic",
                                "subtitle": "10 a month",
                                "image_url": "https://example.com/basic.png",
                                "buttons": [
                                    {
                                        "id": "buy",
                                        "title": "Buy",
                                        "action": {"type": "go_to", "node": "hours"},
                                    }
                                ],
                            }
                        ],
                    },
                    {"type": "image", "url": "https://example.com/map.png", "caption": "Map"},
                ],
            },
        ],
    }


@dataclass(frozen=True)
class ChatBot:
    bot_id: int
    uid: str


async def make_chat_bot(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant, *, name: str = "Help bot"
) -> ChatBot:
    async with session_scope(sessions) as session:
        bot_id = await make_bot(session, tenant.workspace_id, name=name)
        await flows.create_flow(
            session, bot_id, name="Main flow", kind=FlowKind.MAIN, definition=chat_flow()
        )
        channel = await web_channel(session, bot_id)
        return ChatBot(bot_id, channel.uid)


@pytest.fixture
async def bot(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> ChatBot:
    return await make_chat_bot(sessions, tenant)


async def new_visitor(client: httpx.AsyncClient, uid: str) -> str:
    answer = await client.post(f"/webchat/{uid}/visitors")
    assert answer.status_code == 200, answer.text
    visitor = answer.json()["data"]["visitor"]
    assert isinstance(visitor, str)
    return visitor


async def history(client: httpx.AsyncClient, uid: str, visitor: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/webchat/{uid}/history", params={"visitor": visitor})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert isinstance(data, list)
    return data


async def say(client: httpx.AsyncClient, uid: str, body: dict[str, Any]) -> None:
    answer = await client.post(f"/webchat/{uid}/messages", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ok"}


def lines(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each entry as (direction, what it shows in words)."""
    shown: list[tuple[str, str]] = []
    for entry in entries:
        message = entry["message"]
        if message["type"] == "cards":
            words = " | ".join(card["title"] for card in message["cards"])
        elif message["type"] == "text":
            words = message["text"]
        else:
            words = f"{message['type']}:{message['url']}"
        shown.append((entry["direction"], words))
    return shown


# The page, the widget and their assets


async def test_the_page_shows_the_bot_by_name_with_everything_escaped(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> None:
    bot = await make_chat_bot(sessions, tenant, name='<b onmouseover="x">Bot</b> & co')

    page = await client.get(f"/webchat/{bot.uid}")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'data-uid="{bot.uid}"' in page.text
    assert "<title>&lt;b onmouseover=&quot;x&quot;&gt;Bot&lt;/b&gt; &amp; co</title>" in page.text
    assert "<b " not in page.text
    assert 'href="static/webchat.css"' in page.text
    assert 'src="static/webchat.js"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors *" in policy


async def test_the_widget_script_and_the_assets_are_served(
    client: httpx.AsyncClient, bot: ChatBot
) -> None:
    widget = await client.get(f"/webchat/{bot.uid}/widget.js")
    script = await client.get("/webchat/static/webchat.js")
    style = await client.get("/webchat/static/webchat.css")
    other = await client.get("/webchat/static/webchat.html")

    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("text/javascript")
    assert "widget.js" in widget.text
    assert "iframe" in widget.text
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "textContent" in script.text
    assert "innerHTML" not in script.text
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert other.status_code == 404


async def test_an_unknown_channel_is_not_found(client: httpx.AsyncClient, bot: ChatBot) -> None:
    visitor = await new_visitor(client, bot.uid)
    answers = [
        await client.get("/webchat/no-such-channel"),
        await client.get("/webchat/no-such-channel/widget.js"),
        await client.post("/webchat/no-such-channel/visitors"),
        await client.get("/webchat/no-such-channel/history", params={"visitor": visitor}),
        await client.get("/webchat/no-such-channel/events", params={"visitor": visitor}),
        await client.post(
            "/webchat/no-such-channel/messages", json={"visitor": visitor, "text": "hi"}
        ),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert {a.json()["message"] for a in answers} == {"Channel not found"}


# Visitors


async def test_visitor_ids_are_unguessable_and_belong_to_their_channel(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> None:
    first = await make_chat_bot(sessions, tenant, name="First")
    second = await make_chat_bot(sessions, tenant, name="Second")
    visitor = await new_visitor(client, first.uid)
    another = await new_visitor(client, first.uid)
    token, _, _signature = visitor.partition(".")

    assert visitor != another
    assert len(token) >= 24
    assert await history(client, first.uid, visitor) == []
    refused = [
        await client.get(f"/webchat/{second.uid}/history", params={"visitor": visitor}),
        await client.get(f"/webchat/{first.uid}/history", params={"visitor": token}),
        await client.get(f"/webchat/{first.uid}/history", params={"visitor": f"{token}.forged"}),
        await client.post(
            f"/webchat/{second.uid}/messages", json={"visitor": visitor, "text": "hi"}
        ),
        await client.get(f"/webchat/{second.uid}/events", params={"visitor": visitor}),
    ]
    assert [a.status_code for a in refused] == [404] * len(refused)
    assert {a.json()["message"] for a in refused} == {"Visitor not found"}


async def test_a_missing_visitor_is_refused(client: httpx.AsyncClient, bot: ChatBot) -> None:
    answer = await client.get(f"/webchat/{bot.uid}/history")
    posted = await client.post(f"/webchat/{bot.uid}/messages", json={"text": "hi"})

    assert answer.status_code == 422
    assert answer.json()["errors"] == {"visitor": ["The visitor field is required."]}
    assert posted.status_code == 422
    assert posted.json()["errors"] == {"visitor": ["The visitor field is required."]}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "text", "The text field is required when payload is not present."),
        ({"text": "   "}, "text", "The text field is required when payload is not present."),
        ({"text": 5}, "text", "The text field must be a string."),
        ({"text": "x" * 4097}, "text", "The text field must not be greater than 4096 characters."),
        ({"payload": "p" * 257}, "payload", "The payload field must not be greater than 256 "),
        ({"text": "hi", "id": "not an id!"}, "id", "The id field must be made of letters"),
    ],
)
async def test_a_bad_message_is_refused_with_the_field_at_fault(
    client: httpx.AsyncClient, bot: ChatBot, body: dict[str, Any], field: str, message: str
) -> None:
    visitor = await new_visitor(client, bot.uid)

    answer = await client.post(f"/webchat/{bot.uid}/messages", json={"visitor": visitor, **body})

    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient, bot: ChatBot) -> None:
    answer = await client.post(
        f"/webchat/{bot.uid}/messages",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    assert answer.json()["errors"] == {"body": ["The request body is not valid JSON."]}


# Talking to the bot


async def test_the_first_message_makes_a_subscriber_and_the_bot_greets_them(
    app: Any, client: httpx.AsyncClient, bot: ChatBot, session: AsyncSession
) -> None:
    visitor = await new_visitor(client, bot.uid)

    await say(client, bot.uid, {"visitor": visitor, "text": "hi"})
    await app.state.runtime.settle()

    entries = await history(client, bot.uid, visitor)
    assert lines(entries) == [("in", "hi"), ("out", GREETING)]
    greeting = entries[-1]["message"]
    assert greeting["buttons"] == [
        {"type": "url", "title": "Our site", "url": "https://example.com/"}
    ]
    assert [reply["title"] for reply in greeting["quick_replies"]] == ["Opening hours", "Plans"]
    assert all(entry["id"] and entry["at"] for entry in entries)
    subscriber = await session.scalar(
        select(Subscriber)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Subscriber.id)
        .where(SubscriberChannel.type == "web", SubscriberChannel.user_id == visitor)
    )
    assert subscriber is not None
    assert subscriber.bot_id == bot.bot_id


async def test_a_chosen_quick_reply_leads_on_and_is_offered_no_more(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)
    await say(client, bot.uid, {"visitor": visitor, "text": "hi"})
    await app.state.runtime.settle()
    offered = (await history(client, bot.uid, visitor))[-1]["message"]["quick_replies"]
    plans = next(reply for reply in offered if reply["title"] == "Plans")

    await say(client, bot.uid, {"visitor": visitor, **plans})
    await app.state.runtime.settle()

    entries = await history(client, bot.uid, visitor)
    assert lines(entries) == [
        ("in", "hi"),
        ("out", GREETING),
        ("in", "Plans"),
        ("out", "Basic"),
        ("out", "image:https://example.com/map.png"),
    ]
    assert entries[1]["message"]["quick_replies"] == []
    card = entries[3]["message"]["cards"][0]
    assert card["subtitle"] == "10 a month"
    assert card["image_url"] == "https://example.com/basic.png"
    assert entries[4]["message"]["caption"] == "Map"

    buy = card["buttons"][0]
    assert buy["type"] == "payload"
    await say(client, bot.uid, {"visitor": visitor, "payload": buy["payload"], "title": "Buy"})
    await app.state.runtime.settle()
    assert lines(await history(client, bot.uid, visitor))[-2:] == [("in", "Buy"), ("out", HOURS)]


async def test_a_message_sent_again_with_its_id_counts_once(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)

    for _ in range(2):
        await say(client, bot.uid, {"visitor": visitor, "text": "hi", "id": "m-1"})
    await say(client, bot.uid, {"visitor": visitor, "text": "no id"})
    await app.state.runtime.settle()

    entries = await history(client, bot.uid, visitor)
    assert lines(entries) == [("in", "hi"), ("out", GREETING), ("in", "no id"), ("out", GREETING)]
    # The page tells by it which of the messages it shows are stored.
    assert [entry.get("said_id") for entry in entries] == ["m-1", None, None, None]


async def test_the_history_leaves_out_what_is_still_on_its_way_live(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)

    await say(client, bot.uid, {"visitor": visitor, "text": "hi"})

    assert lines(await history(client, bot.uid, visitor)) == [("in", "hi")]
    await app.state.runtime.settle()
    assert lines(await history(client, bot.uid, visitor)) == [("in", "hi"), ("out", GREETING)]


async def test_the_history_is_the_latest_hundred_oldest_first(
    app: Any,
    client: httpx.AsyncClient,
    bot: ChatBot,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    visitor = await new_visitor(client, bot.uid)
    await say(client, bot.uid, {"visitor": visitor, "text": "hi"})
    await app.state.runtime.settle()
    async with session_scope(sessions) as session:
        subscriber_id = await session.scalar(
            select(SubscriberChannel.subscriber_id).where(SubscriberChannel.user_id == visitor)
        )
        greeting = await session.scalar(select(Message).where(Message.direction == "out"))
        assert subscriber_id is not None
        assert greeting is not None
        later = greeting.created_at + dt.timedelta(days=1)
        session.add_all(
            Message(
                bot_id=bot.bot_id,
                subscriber_id=subscriber_id,
                direction=Direction.AGENT.value,
                content=f"note {number}",
                payload={"text": f"note {number}"},
                created_at=later + dt.timedelta(seconds=number),
            )
            for number in range(120)
        )

    entries = await history(client, bot.uid, visitor)

    assert len(entries) == 100
    assert lines(entries)[0] == ("agent", "note 20")
    assert lines(entries)[-1] == ("agent", "note 119")


# Live: WebSocket


class Rejected(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"the socket was closed with {code}")
        self.code = code


class Socket:
    """A WebSocket client that calls the ASGI app in this event loop."""

    def __init__(self, incoming: asyncio.Queue[dict[str, Any]], outgoing: asyncio.Queue[Any]):
        self._incoming = incoming
        self._outgoing = outgoing

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data))

    async def send_text(self, text: str) -> None:
        await self._outgoing.put({"type": "websocket.receive", "text": text})

    async def receive_json(self) -> Any:
        message = await asyncio.wait_for(self._incoming.get(), WAIT_SECONDS)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])


def _scope(kind: str, path: str, query: dict[str, str]) -> dict[str, Any]:
    return {
        "type": kind,
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "ws" if kind == "websocket" else "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query).encode(),
        "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream")],
        "subprotocols": [],
    }


@asynccontextmanager
async def socket(app: Any, uid: str, visitor: str) -> AsyncIterator[Socket]:
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[Any] = asyncio.Queue()
    await outgoing.put({"type": "websocket.connect"})
    scope = _scope("websocket", f"/webchat/{uid}/ws", {"visitor": visitor})
    running = asyncio.create_task(app(scope, outgoing.get, incoming.put))
    try:
        first = await asyncio.wait_for(incoming.get(), WAIT_SECONDS)
        if first["type"] == "websocket.close":
            raise Rejected(first["code"])
        assert first["type"] == "websocket.accept", first
        yield Socket(incoming, outgoing)
    finally:
        await outgoing.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(running, WAIT_SECONDS)


async def test_the_socket_takes_messages_and_pushes_the_bots_answers(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)
    async with socket(app, bot.uid, visitor) as live:
        await live.send_json({"type": "message", "text": "hi", "ref": "r1", "id": "first"})
        assert await live.receive_json() == {"type": "accepted", "ref": "r1"}
        await app.state.runtime.settle()

        greeting = await live.receive_json()
        assert greeting["type"] == "message"
        assert greeting["message"]["text"] == GREETING
        hours = next(r for r in greeting["message"]["quick_replies"] if r["title"] != "Plans")

        await live.send_json({"type": "message", "ref": "r2", **hours})
        assert await live.receive_json() == {"type": "accepted", "ref": "r2"}
        await app.state.runtime.settle()
        assert (await live.receive_json())["message"]["text"] == HOURS

    assert lines(await history(client, bot.uid, visitor)) == [
        ("in", "hi"),
        ("out", GREETING),
        ("in", "Opening hours"),
        ("out", HOURS),
    ]


async def test_the_socket_answers_pings_and_refuses_what_it_cannot_read(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)
    async with socket(app, bot.uid, visitor) as live:
        await live.send_json({"type": "ping"})
        assert await live.receive_json() == {"type": "pong"}
        await live.send_text("{not json")
        assert (await live.receive_json())["message"] == "The message is not valid JSON."
        await live.send_json({"type": "shout", "text": "hi"})
        assert (await live.receive_json())["message"] == "The selected type is invalid."
        await live.send_json({"type": "message", "text": "", "ref": "r1"})
        assert await live.receive_json() == {
            "type": "error",
            "message": "The text field is required when payload is not present.",
            "ref": "r1",
        }

    assert await history(client, bot.uid, visitor) == []


async def test_the_socket_of_an_unknown_visitor_is_closed_at_once(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)

    with pytest.raises(Rejected) as unknown_visitor:
        async with socket(app, bot.uid, visitor.partition(".")[0] + ".forged"):
            pass
    with pytest.raises(Rejected) as unknown_channel:
        async with socket(app, "no-such-channel", visitor):
            pass

    assert unknown_visitor.value.code == 4404
    assert unknown_channel.value.code == 4404


# Live: server-sent events


class Stream:
    """An event stream read from the ASGI app in this event loop."""

    def __init__(self, incoming: asyncio.Queue[dict[str, Any]]) -> None:
        self._incoming = incoming
        self.text = ""

    async def start(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self._incoming.get(), WAIT_SECONDS)
        assert message["type"] == "http.response.start", message
        return message

    async def read_until(self, wanted: str) -> str:
        """Reads on until `wanted` has arrived; answers everything read so far."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while wanted not in self.text:
            message = await asyncio.wait_for(self._incoming.get(), deadline - loop.time())
            self.text += message.get("body", b"").decode()
        return self.text


@asynccontextmanager
async def event_stream(app: Any, uid: str, visitor: str) -> AsyncIterator[Stream]:
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    gone = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    scope = _scope("http", f"/webchat/{uid}/events", {"visitor": visitor})
    running = asyncio.create_task(app(scope, receive, incoming.put))
    try:
        yield Stream(incoming)
    finally:
        gone.set()
        await asyncio.wait_for(running, WAIT_SECONDS)


async def test_the_event_stream_pushes_the_bots_answers(
    app: Any, client: httpx.AsyncClient, bot: ChatBot
) -> None:
    visitor = await new_visitor(client, bot.uid)
    async with event_stream(app, bot.uid, visitor) as stream:
        start = await stream.start()
        headers = dict(start["headers"])
        assert start["status"] == 200
        assert headers[b"content-type"].startswith(b"text/event-stream")
        assert headers[b"cache-control"] == b"no-cache"
        assert await stream.read_until("\n\n") == "retry: 3000\n\n"

        await say(client, bot.uid, {"visitor": visitor, "text": "hi"})
        await app.state.runtime.settle()

        text = await stream.read_until(GREETING)
    data = [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data:")]
    assert len(data) == 1
    event = json.loads(data[0])
    assert event["type"] == "message"
    assert event["message"]["text"] == GREETING
    assert [r["title"] for r in event["message"]["quick_replies"]] == ["Opening hours", "Plans"]
