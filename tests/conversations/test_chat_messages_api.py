"""A subscriber's messages: `chat-messages` (newest first, paged) and `chat-messages-by-mids`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_member, make_subscriber, make_tenant
from konversation.conversations import service as conversations
from konversation.conversations.models import Direction, Message
from konversation.subscribers.models import Subscriber
from konversation.workspaces.models import Role

T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


def unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


async def say(
    session: AsyncSession,
    subscriber: Subscriber,
    direction: Direction,
    *,
    seconds: float = 0,
    content: str = "hello",
    agent_id: int | None = None,
    msg_type: str = "text",
    payload: dict[str, Any] | None = None,
) -> Message:
    message = await conversations.record_message(
        session,
        subscriber,
        direction=direction,
        msg_type=msg_type,
        content=content,
        payload={"text": content} if payload is None else payload,
        agent_id=agent_id,
        at=T0 + dt.timedelta(seconds=seconds),
    )
    await session.commit()
    return message


async def messages(api: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await api.get("/subscriber/chat-messages", params=params)


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> Subscriber:
    return await make_subscriber(session, tenant.bot_id, name="Sam Smith", phone="+61400000001")


@pytest.fixture
async def agent(session: AsyncSession, tenant: Tenant) -> int:
    return await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)


@pytest.fixture
async def chat(session: AsyncSession, sam: Subscriber, agent: int) -> dict[str, Message]:
    """One of each kind of message, a minute apart."""
    kinds = [
        ("in", Direction.IN, None),
        ("out", Direction.OUT, None),
        ("agent", Direction.AGENT, agent),
        ("note", Direction.NOTE, agent),
        ("system", Direction.SYSTEM, None),
    ]
    return {
        name: await say(session, sam, direction, seconds=60 * i, content=name, agent_id=agent_id)
        for i, (name, direction, agent_id) in enumerate(kinds)
    }


class TestChatMessages:
    async def test_without_include_bot_only_incoming_messages_come_back(
        self, api: httpx.AsyncClient, sam: Subscriber, chat: dict[str, Message]
    ) -> None:
        response = await messages(api, user_ns=ns(sam))
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        incoming = chat["in"]
        assert body["data"] == [
            {
                "id": incoming.id,
                "mid": incoming.mid,
                "type": "in",
                "msg_type": "text",
                "content": "in",
                "payload": {"text": "in", "url": None},
                "sender_id": ns(sam),
                "agent_id": None,
                "ts": unix(T0),
            }
        ]
        assert body["meta"]["total"] == 1

    @pytest.mark.parametrize("on", ["1", "yes", "true", "TRUE"])
    async def test_include_bot_adds_the_bot_and_agent_messages_newest_first(
        self, api: httpx.AsyncClient, sam: Subscriber, agent: int, chat: dict[str, Message], on: str
    ) -> None:
        data = (await messages(api, user_ns=ns(sam), include_bot=on)).json()["data"]
        assert [(m["type"], m["sender_id"], m["agent_id"]) for m in data] == [
            ("agent", str(agent), agent),
            ("out", "bot", None),
            ("in", ns(sam), None),
        ]
        assert [m["ts"] for m in data] == [unix(T0) + 120, unix(T0) + 60, unix(T0)]

    async def test_notes_and_system_lines_come_only_when_asked_for(
        self, api: httpx.AsyncClient, sam: Subscriber, agent: int, chat: dict[str, Message]
    ) -> None:
        data = (await messages(api, user_ns=ns(sam), include_note="yes", include_system=1)).json()[
            "data"
        ]
        assert [(m["type"], m["sender_id"]) for m in data] == [
            ("system", "system"),
            ("note", str(agent)),
            ("in", ns(sam)),
        ]

    @pytest.mark.parametrize("off", ["0", "no", "false", ""])
    async def test_flags_switched_off_are_the_same_as_unset(
        self, api: httpx.AsyncClient, sam: Subscriber, chat: dict[str, Message], off: str
    ) -> None:
        params = {"include_bot": off, "include_note": off, "include_system": off}
        data = (await messages(api, user_ns=ns(sam), **params)).json()["data"]
        assert [m["type"] for m in data] == ["in"]

    async def test_a_flag_that_is_not_yes_or_no_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        response = await messages(api, user_ns=ns(sam), include_bot="maybe")
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "include_bot": ["The include_bot field must be yes or no."]
        }

    async def test_finds_the_subscriber_by_user_id(
        self, api: httpx.AsyncClient, sam: Subscriber, chat: dict[str, Message]
    ) -> None:
        data = (await messages(api, user_id="61400000001")).json()["data"]
        assert [m["id"] for m in data] == [chat["in"].id]

    async def test_without_user_ns_or_user_id_answers_422_naming_both(
        self, api: httpx.AsyncClient
    ) -> None:
        response = await messages(api, include_bot=1)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_ns": ["The user_ns field is required when user_id is not present."],
            "user_id": ["The user_id field is required when user_ns is not present."],
        }

    @pytest.mark.parametrize("param", ["user_ns", "user_id"])
    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, param: str
    ) -> None:
        value = f"f{tenant.bot_id}u999" if param == "user_ns" else "999"
        response = await messages(api, **{param: value})
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_a_subscriber_of_another_bot_answers_404(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await make_subscriber(session, other.bot_id)
        await say(session, stranger, Direction.IN)
        response = await messages(api, user_ns=ns(stranger))
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_only_the_subscribers_own_messages_are_listed(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann")
        await say(session, ann, Direction.IN, content="from Ann")
        await say(session, sam, Direction.IN, content="from Sam")
        data = (await messages(api, user_ns=ns(sam))).json()["data"]
        assert [m["content"] for m in data] == ["from Sam"]

    async def test_pages_honour_limit_and_page(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        for n in range(12):
            await say(session, sam, Direction.IN, seconds=n, content=str(n))
        body = (await messages(api, user_ns=ns(sam), limit=5, page=3)).json()
        assert [m["content"] for m in body["data"]] == ["1", "0"]
        meta = body["meta"]
        assert (meta["current_page"], meta["last_page"], meta["per_page"], meta["total"]) == (
            3,
            3,
            5,
            12,
        )
        assert (meta["from"], meta["to"]) == (11, 12)

    async def test_limit_is_at_most_100(self, api: httpx.AsyncClient, sam: Subscriber) -> None:
        body = (await messages(api, user_ns=ns(sam), limit=500)).json()
        assert body["meta"]["per_page"] == 100

    async def test_start_and_end_time_include_their_whole_seconds(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        for seconds in (0, 60.5, 120):
            await say(session, sam, Direction.IN, seconds=seconds, content=str(seconds))
        moment = unix(T0) + 60
        data = (await messages(api, user_ns=ns(sam), start_time=moment, end_time=moment)).json()[
            "data"
        ]
        assert [m["content"] for m in data] == ["60.5"]
        assert data[0]["ts"] == moment
        since = (await messages(api, user_ns=ns(sam), start_time=moment)).json()["data"]
        assert [m["content"] for m in since] == ["120", "60.5"]

    @pytest.mark.parametrize(
        ("param", "value", "message"),
        [
            ("start_time", "soon", "The start_time field must be an integer."),
            ("start_time", 10**15, "The start_time field must be a valid unix timestamp."),
            ("end_time", 253402300799, "The end_time field must be a valid unix timestamp."),
        ],
    )
    async def test_a_time_that_is_not_a_unix_timestamp_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber, param: str, value: object, message: str
    ) -> None:
        response = await messages(api, user_ns=ns(sam), **{param: value})
        assert response.status_code == 422
        assert response.json()["errors"] == {param: [message]}

    async def test_media_messages_carry_their_url(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        url = "https://example.com/cat.png"
        await say(session, sam, Direction.IN, msg_type="image", content="", payload={"url": url})
        data = (await messages(api, user_ns=ns(sam))).json()["data"]
        assert (data[0]["msg_type"], data[0]["payload"]) == ("image", {"text": None, "url": url})


class TestChatMessagesByMids:
    async def test_answers_the_bots_messages_with_those_mids_newest_first(
        self, api: httpx.AsyncClient, sam: Subscriber, agent: int, chat: dict[str, Message]
    ) -> None:
        mids = [chat["in"].mid, chat["agent"].mid, "no-such-mid"]
        response = await api.post("/subscriber/chat-messages-by-mids", json={"mids": mids})
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert [(m["type"], m["mid"], m["sender_id"]) for m in body["data"]] == [
            ("agent", chat["agent"].mid, str(agent)),
            ("in", chat["in"].mid, ns(sam)),
        ]
        assert set(body["data"][0]) == {
            "id", "mid", "type", "msg_type", "content", "payload", "sender_id", "agent_id", "ts",
        }  # fmt: skip

    async def test_messages_of_another_bot_are_left_out(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await make_subscriber(session, other.bot_id)
        theirs = await say(session, stranger, Direction.IN)
        response = await api.post("/subscriber/chat-messages-by-mids", json={"mids": [theirs.mid]})
        assert response.json()["data"] == []

    async def test_no_mids_find_nothing(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/subscriber/chat-messages-by-mids", json={"mids": []})
        assert (response.status_code, response.json()["data"]) == (200, [])

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, {"mids": ["The mids field is required."]}),
            ({"mids": "abc"}, {"mids": ["The mids field must be an array."]}),
            ({"mids": [1]}, {"mids.0": ["The mids.0 field must be a string."]}),
            (
                {"mids": [str(n) for n in range(101)]},
                {"mids": ["The mids field must not have more than 100 items."]},
            ),
        ],
    )
    async def test_malformed_mids_answer_422(
        self, api: httpx.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        response = await api.post("/subscriber/chat-messages-by-mids", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == errors
