"""The Subscriber group's state operations: chat status, agents, pause, subscription, opt-ins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_member, make_subscriber, make_tenant
from konversation.db import utcnow
from konversation.subscribers.models import Subscriber
from konversation.workspaces.models import AgentGroup, Role


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


async def stored(sessions: Sessions, subscriber: Subscriber) -> Subscriber:
    """The subscriber as the database holds it now."""
    async with sessions() as fresh:
        found = await fresh.scalar(select(Subscriber).where(Subscriber.id == subscriber.id))
        assert found is not None
        return found


async def info(api: httpx.AsyncClient, subscriber: Subscriber) -> dict[str, Any]:
    response = await api.get("/subscriber/get-info", params={"user_ns": ns(subscriber)})
    return response.json()["data"]  # type: ignore[no-any-return]


async def actions(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    rows = (await api.get("/flow/agent-activity-log/data")).json()["data"]
    return [(row["action"], row["source_type"]) for row in rows]


async def counts(api: httpx.AsyncClient) -> dict[str, int]:
    rows = (await api.get("/flow/bot-users-count")).json()["data"]
    return {row["status"]: row["num"] for row in rows}


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> Subscriber:
    return await make_subscriber(session, tenant.bot_id, name="Sam Smith")


@pytest.fixture
async def alice(session: AsyncSession, tenant: Tenant) -> int:
    return await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)


OK = {"status": "ok"}
# Every state operation with a body that succeeds for a subscriber with an email.
OPERATIONS = [
    ("POST", "/subscriber/move-chat-to", {"status": "done"}),
    ("POST", "/subscriber/unassign-agent", {}),
    ("POST", "/subscriber/pause-bot", {"minutes": 5}),
    ("POST", "/subscriber/resume-bot", {}),
    ("POST", "/subscriber/subscribe-to-bot", {}),
    ("DELETE", "/subscriber/unsubscribe-from-bot", {}),
    ("POST", "/subscriber/opt-in-email", {}),
    ("DELETE", "/subscriber/opt-out-email", {}),
    ("DELETE", "/subscriber/opt-out-sms", {}),
]


class TestEveryStateOperation:
    @pytest.mark.parametrize(("method", "path", "extra"), OPERATIONS)
    async def test_an_unknown_user_ns_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, method: str, path: str, extra: dict[str, Any]
    ) -> None:
        body = {"user_ns": f"f{tenant.bot_id}u404", **extra}
        response = await api.request(method, path, json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    @pytest.mark.parametrize(("method", "path", "extra"), OPERATIONS)
    async def test_a_subscriber_of_another_bot_answers_404_and_is_untouched(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        method: str,
        path: str,
        extra: dict[str, Any],
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await make_subscriber(session, other.bot_id)
        before = await stored(sessions, stranger)
        response = await api.request(method, path, json={"user_ns": ns(stranger), **extra})
        assert response.status_code == 404
        after = await stored(sessions, stranger)
        columns = [c.key for c in Subscriber.__table__.columns]
        assert {c: getattr(after, c) for c in columns} == {c: getattr(before, c) for c in columns}

    @pytest.mark.parametrize(("method", "path", "extra"), OPERATIONS)
    async def test_without_user_ns_answers_422(
        self, api: httpx.AsyncClient, method: str, path: str, extra: dict[str, Any]
    ) -> None:
        response = await api.request(method, path, json=extra)
        assert response.status_code == 422
        assert response.json()["errors"]["user_ns"] == ["The user_ns field is required."]


class TestMoveChatTo:
    @pytest.mark.parametrize("status", ["pending", "spam", "done", "open"])
    async def test_sets_the_status(
        self, api: httpx.AsyncClient, sam: Subscriber, status: str
    ) -> None:
        await api.post("/subscriber/move-chat-to", json={"user_ns": ns(sam), "status": "pending"})
        response = await api.post(
            "/subscriber/move-chat-to", json={"user_ns": ns(sam), "status": status}
        )
        assert (response.status_code, response.json()) == (200, OK)
        assert (await info(api, sam))["status"] == status

    async def test_the_counts_follow(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await make_subscriber(session, tenant.bot_id, name="Ann")
        assert await counts(api) == {"open": 2, "pending": 0, "spam": 0, "done": 0}
        for status, expected in [
            ("pending", {"open": 1, "pending": 1, "spam": 0, "done": 0}),
            ("done", {"open": 1, "pending": 0, "spam": 0, "done": 1}),
            ("done", {"open": 1, "pending": 0, "spam": 0, "done": 1}),
            ("spam", {"open": 1, "pending": 0, "spam": 1, "done": 0}),
            ("open", {"open": 2, "pending": 0, "spam": 0, "done": 0}),
        ]:
            await api.post("/subscriber/move-chat-to", json={"user_ns": ns(sam), "status": status})
            assert await counts(api) == expected, status

    async def test_done_closes_the_conversation_and_open_starts_another(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        for status in ("open", "done", "open", "done"):
            await api.post("/subscriber/move-chat-to", json={"user_ns": ns(sam), "status": status})
        rows = (await api.get("/flow/conversations/data")).json()["data"]
        assert [(r["opened_source"], r["closed_source"]) for r in rows] == [("api", "api")] * 2
        assert await actions(api) == [
            ("open", "api"),
            ("close", "api"),
            ("open", "api"),
            ("close", "api"),
        ]

    async def test_moving_to_the_current_status_logs_nothing_more(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        for _ in range(2):
            await api.post("/subscriber/move-chat-to", json={"user_ns": ns(sam), "status": "spam"})
        assert await actions(api) == [("spam", "api")]

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"status": "closed"}, {"status": ["The selected status is invalid."]}),
            ({}, {"status": ["The status field is required."]}),
        ],
    )
    async def test_a_bad_status_answers_422_and_changes_nothing(
        self,
        api: httpx.AsyncClient,
        sam: Subscriber,
        body: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> None:
        response = await api.post("/subscriber/move-chat-to", json={"user_ns": ns(sam), **body})
        assert response.status_code == 422
        assert response.json()["errors"] == errors
        assert (await info(api, sam))["status"] == "open"


class TestAssignAgent:
    async def test_assigns_a_member_and_logs_it(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber, alice: int
    ) -> None:
        response = await api.post(
            "/subscriber/assign-agent", json={"user_ns": ns(sam), "agent_id": alice}
        )
        assert (response.status_code, response.json()) == (200, OK)
        assert (await stored(sessions, sam)).assigned_agent_id == alice
        rows = (await api.get("/flow/agent-activity-log/data")).json()["data"]
        assert [(r["action"], r["agent_id"], r["source_type"]) for r in rows] == [
            ("open", None, "api"),
            ("assign", alice, "api"),
        ]

    async def test_any_role_of_the_workspace_can_be_assigned(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: Subscriber
    ) -> None:
        response = await api.post(
            "/subscriber/assign-agent", json={"user_ns": ns(sam), "agent_id": tenant.owner_id}
        )
        assert response.status_code == 200
        assert (await stored(sessions, sam)).assigned_agent_id == tenant.owner_id

    async def test_reopens_a_done_chat(
        self, api: httpx.AsyncClient, sam: Subscriber, alice: int
    ) -> None:
        await api.post("/subscriber/move-chat-to", json={"user_ns": ns(sam), "status": "done"})
        await api.post("/subscriber/assign-agent", json={"user_ns": ns(sam), "agent_id": alice})
        assert (await info(api, sam))["status"] == "open"
        assert (await counts(api))["done"] == 0

    async def test_someone_outside_the_workspace_answers_404_and_assigns_nobody(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        sam: Subscriber,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        for agent_id in (other.owner_id, 999_999, 2**40, 0):
            response = await api.post(
                "/subscriber/assign-agent", json={"user_ns": ns(sam), "agent_id": agent_id}
            )
            assert response.status_code == 404, agent_id
            assert response.json() == {"message": "Agent not found"}
        assert (await stored(sessions, sam)).assigned_agent_id is None
        assert await actions(api) == []

    @pytest.mark.parametrize(
        ("agent_id", "message"),
        [
            ("Alice", "The agent_id field must be an integer."),
            (None, "The agent_id field must be an integer."),
        ],
    )
    async def test_an_agent_id_that_is_not_a_number_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber, agent_id: object, message: str
    ) -> None:
        response = await api.post(
            "/subscriber/assign-agent", json={"user_ns": ns(sam), "agent_id": agent_id}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"agent_id": [message]}


class TestAssignAgentGroup:
    async def _group(self, session: AsyncSession, workspace_id: int, name: str) -> int:
        group = AgentGroup(workspace_id=workspace_id, name=name)
        session.add(group)
        await session.commit()
        return group.id

    async def test_assigns_a_group_of_the_workspace(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: Subscriber,
    ) -> None:
        group = await self._group(session, tenant.workspace_id, "Support")
        response = await api.post(
            "/subscriber/assign-agent-group", json={"user_ns": ns(sam), "agent_group_id": group}
        )
        assert (response.status_code, response.json()) == (200, OK)
        assert (await stored(sessions, sam)).agent_group_id == group

    async def test_a_group_of_another_workspace_answers_404(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        sam: Subscriber,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await self._group(session, other.workspace_id, "Sales")
        for group in (theirs, 999_999, 2**40):
            response = await api.post(
                "/subscriber/assign-agent-group",
                json={"user_ns": ns(sam), "agent_group_id": group},
            )
            assert response.status_code == 404
            assert response.json() == {"message": "Agent group not found"}
        assert (await stored(sessions, sam)).agent_group_id is None

    async def test_without_a_group_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        response = await api.post("/subscriber/assign-agent-group", json={"user_ns": ns(sam)})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "agent_group_id": ["The agent_group_id field is required."]
        }


class TestUnassignAgent:
    async def test_takes_the_chat_from_its_agent_and_leaves_the_group(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        alice: int,
    ) -> None:
        group = AgentGroup(workspace_id=tenant.workspace_id, name="Support")
        session.add(group)
        await session.commit()
        sam = await make_subscriber(
            session, tenant.bot_id, assigned_agent_id=alice, agent_group_id=group.id
        )
        response = await api.post("/subscriber/unassign-agent", json={"user_ns": ns(sam)})
        assert (response.status_code, response.json()) == (200, OK)
        after = await stored(sessions, sam)
        assert (after.assigned_agent_id, after.agent_group_id) == (None, group.id)


class TestPauseAndResumeBot:
    async def test_pauses_for_the_minutes_given(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        before = utcnow()
        response = await api.post("/subscriber/pause-bot", json={"user_ns": ns(sam), "minutes": 30})
        assert (response.status_code, response.json()) == (200, OK)
        paused_until = (await stored(sessions, sam)).paused_until
        assert paused_until is not None
        assert (
            before + dt.timedelta(minutes=30) <= paused_until <= utcnow() + dt.timedelta(minutes=30)
        )

    @pytest.mark.parametrize("body", [{}, {"minutes": None}, {"minutes": ""}])
    async def test_without_minutes_pauses_for_an_hour(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber, body: dict[str, Any]
    ) -> None:
        before = utcnow()
        response = await api.post("/subscriber/pause-bot", json={"user_ns": ns(sam), **body})
        assert response.status_code == 200
        paused_until = (await stored(sessions, sam)).paused_until
        assert paused_until is not None
        assert (
            before + dt.timedelta(minutes=60) <= paused_until <= utcnow() + dt.timedelta(minutes=60)
        )

    @pytest.mark.parametrize(
        ("minutes", "message"),
        [
            (0, "The minutes field must be between 1 and 525600."),
            (525_601, "The minutes field must be between 1 and 525600."),
            (10**30, "The minutes field must be between 1 and 525600."),
            ("soon", "The minutes field must be an integer."),
        ],
    )
    async def test_minutes_out_of_range_answer_422_and_change_nothing(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        sam: Subscriber,
        minutes: object,
        message: str,
    ) -> None:
        response = await api.post(
            "/subscriber/pause-bot", json={"user_ns": ns(sam), "minutes": minutes}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"minutes": [message]}
        assert (await stored(sessions, sam)).paused_until is None

    async def test_resume_ends_the_pause(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: Subscriber
    ) -> None:
        await api.post("/subscriber/pause-bot", json={"user_ns": ns(sam), "minutes": 30})
        response = await api.post("/subscriber/resume-bot", json={"user_ns": ns(sam)})
        assert (response.status_code, response.json()) == (200, OK)
        assert (await stored(sessions, sam)).paused_until is None


class TestSubscription:
    async def test_unsubscribe_then_subscribe_again(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        response = await api.request(
            "DELETE", "/subscriber/unsubscribe-from-bot", json={"user_ns": ns(sam)}
        )
        assert (response.status_code, response.json()) == (200, OK)
        data = await info(api, sam)
        assert (data["subscribed"], data["allow_send_message"]) == (None, False)
        response = await api.post("/subscriber/subscribe-to-bot", json={"user_ns": ns(sam)})
        assert (response.status_code, response.json()) == (200, OK)
        data = await info(api, sam)
        assert data["subscribed"] is not None
        assert data["allow_send_message"] is True
        assert await actions(api) == [("unsubscribe_from_bot", "api"), ("subscribe_to_bot", "api")]

    async def test_subscribing_a_subscribed_subscriber_changes_nothing(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        subscribed = (await info(api, sam))["subscribed"]
        await api.post("/subscriber/subscribe-to-bot", json={"user_ns": ns(sam)})
        assert (await info(api, sam))["subscribed"] == subscribed
        assert await actions(api) == []

    @pytest.mark.parametrize("style", ["query string", "method override"])
    async def test_unsubscribe_the_other_ways_clients_send_delete(
        self, api: httpx.AsyncClient, sam: Subscriber, style: str
    ) -> None:
        if style == "query string":
            response = await api.delete(
                "/subscriber/unsubscribe-from-bot", params={"user_ns": ns(sam)}
            )
        else:
            response = await api.post(
                "/subscriber/unsubscribe-from-bot",
                json={"user_ns": ns(sam)},
                headers={"X-HTTP-Method-Override": "DELETE"},
            )
        assert (response.status_code, response.json()) == (200, OK)
        assert (await info(api, sam))["subscribed"] is None


class TestOptIns:
    async def test_opt_in_and_out_of_email(self, api: httpx.AsyncClient, sam: Subscriber) -> None:
        response = await api.post("/subscriber/opt-in-email", json={"user_ns": ns(sam)})
        assert (response.status_code, response.json()) == (200, OK)
        data = await info(api, sam)
        assert data["opted_in_email"] is not None
        assert (data["opted_in_sms"], data["opted_in_through"]) == (None, "api")
        response = await api.request(
            "DELETE", "/subscriber/opt-out-email", json={"user_ns": ns(sam)}
        )
        assert (response.status_code, response.json()) == (200, OK)
        data = await info(api, sam)
        assert (data["opted_in_email"], data["opted_in_through"]) == (None, None)
        assert await actions(api) == [("opt_in_email", "api"), ("opt_out_email", "api")]

    async def test_opt_in_and_out_of_sms(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann", phone="+61400000002")
        await api.post("/subscriber/opt-in-sms", json={"user_ns": ns(ann)})
        await api.post("/subscriber/opt-in-sms", json={"user_ns": ns(ann)})
        assert (await info(api, ann))["opted_in_sms"] is not None
        await api.delete("/subscriber/opt-out-sms", params={"user_ns": ns(ann)})
        assert (await info(api, ann))["opted_in_sms"] is None
        assert await actions(api) == [("opt_in_sms", "api"), ("opt_out_sms", "api")]

    async def test_opting_out_of_one_keeps_the_other(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        ann = await make_subscriber(
            session, tenant.bot_id, name="Ann", phone="+61400000003", email="ann@example.com"
        )
        await api.post("/subscriber/opt-in-sms", json={"user_ns": ns(ann)})
        await api.post("/subscriber/opt-in-email", json={"user_ns": ns(ann)})
        await api.request("DELETE", "/subscriber/opt-out-sms", json={"user_ns": ns(ann)})
        data = await info(api, ann)
        assert data["opted_in_sms"] is None
        assert data["opted_in_email"] is not None
        assert data["opted_in_through"] == "api"

    async def test_opting_in_is_found_by_the_search_filters(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        await api.post("/subscriber/opt-in-email", json={"user_ns": ns(sam)})
        found = (await api.get("/subscribers", params={"is_opt_in_email": "yes"})).json()
        assert [s["user_ns"] for s in found["data"]] == [ns(sam)]

    async def test_email_needs_an_address(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann", phone="+61400000004")
        response = await api.post("/subscriber/opt-in-email", json={"user_ns": ns(ann)})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_ns": [
                "The subscriber has no email address to opt in: set one with subscriber/update."
            ]
        }
        assert (await info(api, ann))["opted_in_email"] is None

    async def test_sms_needs_a_phone_number(self, api: httpx.AsyncClient, sam: Subscriber) -> None:
        response = await api.post("/subscriber/opt-in-sms", json={"user_ns": ns(sam)})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_ns": [
                "The subscriber has no phone number to opt in: set one with subscriber/update."
            ]
        }
        assert await actions(api) == []
