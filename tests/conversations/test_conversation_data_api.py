"""The conversation log as recorded, read back through `flow/conversations/data` and
`flow/agent-activity-log/data`, and the subscriber's activity as `get-info` shows it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_member, make_subscriber, make_tenant
from konversation.conversations import service as conversations
from konversation.conversations.models import Direction
from konversation.conversations.service import ActivitySource
from konversation.db import utcnow
from konversation.subscribers.models import ConversationStatus, Subscriber
from konversation.workspaces.models import Role

T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)
OPEN, PENDING, SPAM, DONE = (
    ConversationStatus.OPEN,
    ConversationStatus.PENDING,
    ConversationStatus.SPAM,
    ConversationStatus.DONE,
)


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%d %H:%M:%S")


def unix(seconds: float) -> int:
    return int(at(seconds).timestamp())


async def say(
    session: AsyncSession, subscriber: Subscriber, direction: Direction, seconds: float
) -> None:
    await conversations.record_message(
        session,
        subscriber,
        direction=direction,
        msg_type="text",
        content=f"{direction} at {seconds}",
        payload={},
        at=at(seconds),
    )
    await session.commit()


async def move(
    session: AsyncSession,
    subscriber: Subscriber,
    status: ConversationStatus,
    seconds: float,
    source: ActivitySource = ActivitySource.API,
) -> None:
    await conversations.move_chat(session, subscriber, status, source=source, at=at(seconds))
    await session.commit()


async def assign(session: AsyncSession, subscriber: Subscriber, agent: int, seconds: float) -> None:
    await conversations.assign_agent(
        session, subscriber, agent_id=agent, source=ActivitySource.AGENT, at=at(seconds)
    )
    await session.commit()


async def reply(session: AsyncSession, subscriber: Subscriber, agent: int, seconds: float) -> None:
    await conversations.reply(session, subscriber, agent_id=agent, content="On it", at=at(seconds))
    await session.commit()


async def closed(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/flow/conversations/data", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    return body["data"]  # type: ignore[no-any-return]


async def activity(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/flow/agent-activity-log/data", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def info(api: httpx.AsyncClient, subscriber: Subscriber) -> dict[str, Any]:
    response = await api.get("/subscriber/get-info", params={"user_ns": ns(subscriber)})
    return response.json()["data"]  # type: ignore[no-any-return]


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> Subscriber:
    return await make_subscriber(session, tenant.bot_id, name="Sam Smith")


@pytest.fixture
async def alice(session: AsyncSession, tenant: Tenant) -> int:
    return await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)


@pytest.fixture
async def bob(session: AsyncSession, tenant: Tenant) -> int:
    return await make_member(session, tenant, name="Bob Agent", role=Role.AGENT)


class TestRecordingMessages:
    async def test_an_incoming_message_is_the_subscribers_latest_interaction(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        now = utcnow().replace(microsecond=0)
        await conversations.record_message(
            session,
            sam,
            direction=Direction.IN,
            msg_type="text",
            content="Where is my order?",
            payload={"text": "Where is my order?"},
            at=now,
        )
        await session.commit()
        data = await info(api, sam)
        moment = now.strftime("%Y-%m-%d %H:%M:%S")
        assert (data["last_interaction_at"], data["last_message_at"]) == (moment, moment)
        assert (data["last_message_type"], data["last_input_text"]) == (
            "text",
            "Where is my order?",
        )
        assert data["is_last_message_in_last_24h"] is True
        assert data["is_bot_interacted_in_last_24h"] is False

    async def test_a_bot_message_is_the_bots_latest_interaction(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await conversations.record_message(
            session, sam, direction=Direction.OUT, msg_type="image", content="", payload={}
        )
        await session.commit()
        data = await info(api, sam)
        assert data["is_bot_interacted_in_last_24h"] is True
        assert data["last_message_type"] == "image"
        assert data["last_interaction_at"] is None

    async def test_a_note_is_not_part_of_the_exchange(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber, alice: int
    ) -> None:
        await conversations.note(session, sam, agent_id=alice, content="VIP, be nice")
        await session.commit()
        assert (await info(api, sam))["last_message_at"] is None

    async def test_the_first_message_opens_the_subscribers_first_conversation(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await move(session, sam, DONE, 10)
        await say(session, sam, Direction.IN, 20)
        await move(session, sam, DONE, 30)
        rows = await closed(api)
        assert [(r["source_type"], r["is_new_bot_user"], r["opened_source"]) for r in rows] == [
            ("new_user", 1, "bot_user"),
            ("return_user", 0, "bot_user"),
        ]

    async def test_a_message_to_a_done_chat_reopens_it(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await move(session, sam, DONE, 0)
        await say(session, sam, Direction.IN, 10)
        assert (await info(api, sam))["status"] == "open"
        counts = (await api.get("/flow/bot-users-count")).json()["data"]
        assert {c["status"]: c["num"] for c in counts} == {
            "open": 1,
            "pending": 0,
            "spam": 0,
            "done": 0,
        }
        assert [a["action"] for a in await activity(api)] == ["close", "open"]

    async def test_a_message_from_a_spam_chat_opens_nothing(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await move(session, sam, SPAM, 0)
        await say(session, sam, Direction.IN, 10)
        assert (await info(api, sam))["status"] == "spam"
        assert [a["action"] for a in await activity(api)] == ["spam"]

    async def test_bot_and_agent_messages_open_no_conversation(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber, alice: int
    ) -> None:
        await say(session, sam, Direction.OUT, 0)
        await reply(session, sam, alice, 10)
        assert await activity(api, action="open") == []


class TestConversationsData:
    async def test_answers_every_field_of_a_closed_conversation(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: Subscriber,
        alice: int,
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await say(session, sam, Direction.IN, 30)  # still the same wait
        await say(session, sam, Direction.OUT, 60)
        await assign(session, sam, alice, 120)
        await reply(session, sam, alice, 300)
        await reply(session, sam, alice, 310)  # nothing was waiting: not a response
        await say(session, sam, Direction.IN, 400)
        await reply(session, sam, alice, 460)
        await conversations.note(session, sam, agent_id=alice, content="done", at=at(500))
        await move(session, sam, DONE, 600)
        rows = await closed(api)
        conversation_id = rows[0]["id"]
        assert rows == [
            {
                "id": conversation_id,
                "flow_ns": tenant.flow_ns,
                "user_ns": ns(sam),
                "first_assign_agent_id": alice,
                "first_reply_agent_id": alice,
                "last_assign_agent_id": alice,
                "first_close_agent_id": alice,  # closed by the API: credited to the assignee
                "last_close_agent_id": alice,
                "is_new_bot_user": 1,
                "created_at": stamp(0),
                "source_type": "new_user",
                "first_open_at": stamp(0),
                "first_close_at": stamp(600),
                "last_open_at": stamp(0),
                "last_close_at": stamp(600),
                "first_assign_at": stamp(120),
                "first_reply_at": stamp(300),
                "last_assign_at": stamp(120),
                "first_reply_after_last_assign_at": stamp(300),
                "first_open_to_first_assign": 120,
                "first_open_to_first_reply": 300,
                "first_reply_after_first_assign": 180,
                "first_reply_after_last_assign": 180,
                "first_assign_to_first_close": 480,
                "first_reply_to_first_close": 300,
                "first_open_to_first_close": 600,
                "last_assign_to_last_close": 480,
                "first_open_to_last_close": 600,
                "handling_time": 480,
                "avg_response_time": 180,  # (300 + 60) / 2
                "avg_subsequent_response_time": 60,
                "in_messages": 3,
                "agent_messages": 3,
                "bot_messages": 1,
                "number_of_agent_replies": 2,
                "number_of_notes": 1,
                "number_of_unique_agents": 1,
                "number_of_assignments": 1,
                "number_of_opens": 1,
                "number_of_closes": 1,
                "opened_source": "bot_user",
                "closed_source": "api",
            }
        ]

    async def test_a_conversation_nobody_was_assigned_to_has_no_assignment_spans(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await move(session, sam, OPEN, 0, source=ActivitySource.AGENT)
        await move(session, sam, DONE, 90, source=ActivitySource.BOT)
        [row] = await closed(api)
        assert (row["source_type"], row["opened_source"], row["closed_source"]) == (
            "agent",
            "agent",
            "bot",
        )
        assert row["first_open_to_first_close"] == 90
        for field in (
            "first_assign_at", "first_open_to_first_assign", "first_assign_to_first_close",
            "first_reply_at", "first_open_to_first_reply", "handling_time", "avg_response_time",
            "avg_subsequent_response_time", "first_close_agent_id",
        ):  # fmt: skip
            assert row[field] is None, field
        assert row["number_of_agent_replies"] == 0

    async def test_handling_time_leaves_out_time_spent_pending(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber, alice: int
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await assign(session, sam, alice, 100)
        await move(session, sam, PENDING, 200)
        await move(session, sam, OPEN, 500)
        await move(session, sam, DONE, 650)
        [row] = await closed(api)
        assert row["handling_time"] == 100 + 150
        assert (row["number_of_opens"], row["last_open_at"]) == (2, stamp(500))

    async def test_a_new_assignment_restarts_the_wait_for_a_reply(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber, alice: int, bob: int
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await assign(session, sam, alice, 10)
        await reply(session, sam, alice, 20)
        await assign(session, sam, bob, 100)
        await say(session, sam, Direction.IN, 110)
        await reply(session, sam, bob, 160)
        await move(session, sam, DONE, 200)
        [row] = await closed(api)
        assert (row["first_assign_agent_id"], row["last_assign_agent_id"]) == (alice, bob)
        assert row["first_reply_after_last_assign"] == 60
        assert row["first_reply_after_first_assign"] == 10
        assert (row["number_of_assignments"], row["number_of_unique_agents"]) == (2, 2)
        assert row["last_assign_to_last_close"] == 100

    async def test_assigning_the_same_agent_again_changes_nothing(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber, alice: int
    ) -> None:
        await assign(session, sam, alice, 0)
        await assign(session, sam, alice, 10)
        await move(session, sam, DONE, 20)
        [row] = await closed(api)
        assert row["number_of_assignments"] == 1
        assert [a["action"] for a in await activity(api)] == ["open", "assign", "close"]

    async def test_a_spam_chat_closes_its_conversation(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await move(session, sam, SPAM, 50)
        [row] = await closed(api)
        assert (row["last_close_at"], row["number_of_closes"]) == (stamp(50), 1)

    async def test_open_conversations_are_not_listed(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await move(session, sam, PENDING, 10)
        assert await closed(api) == []

    async def test_pages_by_id_after_start_id_with_limit(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        for n in range(5):
            await say(session, sam, Direction.IN, 100 * n)
            await move(session, sam, DONE, 100 * n + 50)
        ids = [r["id"] for r in await closed(api)]
        assert ids == sorted(ids)
        assert len(ids) == 5
        assert [r["id"] for r in await closed(api, start_id=ids[1], limit=2)] == ids[2:4]
        assert [r["id"] for r in await closed(api, limit=0)] == ids[:1]

    async def test_filters_by_closing_time(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        for n in range(3):
            await say(session, sam, Direction.IN, 100 * n)
            await move(session, sam, DONE, 100 * n + 50)
        rows = await closed(api, start_time=unix(150), end_time=unix(250))
        assert [r["last_close_at"] for r in rows] == [stamp(150), stamp(250)]

    async def test_filters_by_subscriber(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann")
        for who in (sam, ann):
            await say(session, who, Direction.IN, 0)
            await move(session, who, DONE, 10)
        assert [r["user_ns"] for r in await closed(api, user_ns=ns(ann))] == [ns(ann)]

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.get(
            "/flow/conversations/data", params={"user_ns": f"f{tenant.bot_id}u404"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_another_bots_conversations_are_not_listed(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await make_subscriber(session, other.bot_id)
        await say(session, stranger, Direction.IN, 0)
        await move(session, stranger, DONE, 10)
        assert await closed(api) == []

    @pytest.mark.parametrize("param", ["start_id", "limit", "start_time"])
    async def test_a_number_that_is_not_one_answers_422(
        self, api: httpx.AsyncClient, param: str
    ) -> None:
        response = await api.get("/flow/conversations/data", params={param: "many"})
        assert response.status_code == 422
        assert response.json()["errors"] == {param: [f"The {param} field must be an integer."]}

    async def test_a_start_id_beyond_any_id_finds_nothing(self, api: httpx.AsyncClient) -> None:
        assert await closed(api, start_id=2**40) == []


class TestAgentActivityLog:
    async def test_answers_what_happened_oldest_first(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber, alice: int
    ) -> None:
        await say(session, sam, Direction.IN, 0)
        await assign(session, sam, alice, 10)
        await reply(session, sam, alice, 20)
        await conversations.note(session, sam, agent_id=alice, content="ok", at=at(30))
        await move(session, sam, DONE, 40)
        [conversation] = await closed(api)
        conv_id = conversation["id"]
        assert await activity(api) == [
            {
                "agent_id": agent_id,
                "user_ns": ns(sam),
                "created_at": stamp(seconds),
                "source_type": source,
                "action": action,
                "conv_id": conv_id,
            }
            for agent_id, seconds, source, action in [
                (None, 0, "bot_user", "open"),
                (alice, 10, "agent", "assign"),
                (alice, 20, "agent", "reply"),
                (alice, 30, "agent", "note"),
                (None, 40, "api", "close"),
            ]
        ]

    async def test_filters(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: Subscriber,
        alice: int,
        bob: int,
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann")
        await say(session, sam, Direction.IN, 0)
        await assign(session, sam, alice, 10)
        await move(session, sam, DONE, 20)
        await say(session, ann, Direction.IN, 30)
        await assign(session, ann, bob, 40)
        [first] = await closed(api)

        async def actions(**params: Any) -> list[tuple[str, str]]:
            return [(a["user_ns"], a["action"]) for a in await activity(api, **params)]

        assert await actions(user_ns=ns(ann)) == [(ns(ann), "open"), (ns(ann), "assign")]
        assert await actions(agent_id=bob) == [(ns(ann), "assign")]
        assert await actions(conv_id=first["id"]) == [
            (ns(sam), "open"),
            (ns(sam), "assign"),
            (ns(sam), "close"),
        ]
        assert await actions(action="open") == [(ns(sam), "open"), (ns(ann), "open")]
        assert await actions(source_type="api") == [(ns(sam), "close")]
        assert await actions(start_time=unix(20), end_time=unix(30)) == [
            (ns(sam), "close"),
            (ns(ann), "open"),
        ]
        assert await actions(limit=2) == [(ns(sam), "open"), (ns(sam), "assign")]
        assert await actions(action="add_collaborator") == []
        assert await actions(agent_id=2**40, conv_id=-1) == []

    @pytest.mark.parametrize(
        ("param", "message"),
        [
            ("action", "The selected action is invalid."),
            ("source_type", "The selected source_type is invalid."),
            ("agent_id", "The agent_id field must be an integer."),
        ],
    )
    async def test_an_unknown_value_answers_422(
        self, api: httpx.AsyncClient, param: str, message: str
    ) -> None:
        response = await api.get("/flow/agent-activity-log/data", params={param: "dance"})
        assert response.status_code == 422
        assert response.json()["errors"] == {param: [message]}

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.get(
            "/flow/agent-activity-log/data", params={"user_ns": f"f{tenant.bot_id}u404"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_another_bots_activity_is_not_listed(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await make_subscriber(session, other.bot_id)
        await say(session, stranger, Direction.IN, 0)
        assert await activity(api) == []
