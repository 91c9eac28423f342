"""The Workspace group of the Connect API, as clients call it: workspace-wide reads for keys
holding the Manage Team permission."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import (
    Tenant,
    make_bot,
    make_key,
    make_member,
    make_message,
    make_subscriber,
    make_tenant,
)
from konversation.db import utcnow
from konversation.workspaces.models import Role
from konversation.workspaces.summaries import Range, days_of

HOUR = dt.timedelta(hours=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def yesterday_at(time: str) -> dt.datetime:
    yesterday = utcnow().date() - dt.timedelta(days=1)
    return dt.datetime.fromisoformat(f"{yesterday.isoformat()}T{time}+00:00")


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["data"]]


async def stranger(sessions: async_sessionmaker[AsyncSession], server_secret: bytes) -> Tenant:
    """Another workspace, with its own owner, bot and key."""
    return await make_tenant(sessions, server_secret, email="stranger@example.com")


class _NeedsManageTeam:
    """What every operation of the group answers to a caller it must refuse."""

    path: str

    async def test_without_a_key_answers_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api{self.path}")

        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}

    async def test_with_an_unknown_key_answers_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api{self.path}", headers=bearer("not-a-real-key"))

        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}

    async def test_a_key_without_manage_team_answers_403(
        self, client: httpx.AsyncClient, session: AsyncSession, server_secret: bytes, tenant: Tenant
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Flow"])

        response = await client.get(f"/api{self.path}", headers=bearer(token))

        assert response.status_code == 403
        assert "Manage Team" in response.json()["message"]

    async def test_a_workspace_key_bound_to_no_bot_is_enough(
        self, client: httpx.AsyncClient, session: AsyncSession, server_secret: bytes, tenant: Tenant
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=["Manage Team"], bot_id=None
        )

        response = await client.get(f"/api{self.path}", headers=bearer(token))

        assert response.status_code == 200
        assert response.json()["status"] == "ok"


class TestTeamInfo(_NeedsManageTeam):
    path = "/team-info"

    async def test_answers_the_workspace_and_its_owner(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.get(self.path)

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["data"]["id"] == tenant.workspace_id
        assert body["data"]["name"] == "Acme"
        assert body["data"]["image"] is None
        assert body["data"]["owner_id"] == tenant.owner_id
        assert body["data"]["owner_email"].endswith("@example.com")

    async def test_answers_the_callers_workspace_only(
        self,
        api: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        other = await stranger(sessions, server_secret)

        body = (await api.get(self.path)).json()

        assert body["data"]["id"] == tenant.workspace_id != other.workspace_id


class TestTeamMembers(_NeedsManageTeam):
    path = "/team-members"

    async def test_lists_members_with_their_roles(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)

        response = await api.get(self.path)

        assert response.status_code == 200
        data = response.json()["data"]
        assert data[0]["id"] == tenant.owner_id
        assert data[0]["role"] == "owner"
        assert data[1] == {
            "id": agent,
            "name": "Alice Agent",
            "email": "alice.agent@example.com",
            "image": None,
            "is_online": False,
            "role": "agent",
        }

    async def test_honours_limit_and_page_and_says_where_the_page_sits(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("Ann Admin", "Mo Member", "Alice Agent", "Bob Agent"):
            await make_member(session, tenant, name=name, role=Role.AGENT)

        body = (await api.get(self.path, params={"limit": 2, "page": 2})).json()

        assert names(body) == ["Mo Member", "Alice Agent"]
        assert body["meta"] == {
            "current_page": 2,
            "last_page": 3,
            "per_page": 2,
            "total": 5,
            "from": 3,
            "to": 4,
        }

    async def test_ignores_stray_parameters(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        response = await api.get(self.path, params={"per_page": 1, "search": "x", "offset": 3})

        assert response.status_code == 200
        assert names(response.json()) == ["Ada Owner"]

    async def test_filters_by_part_of_the_name_in_any_case(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        await make_member(session, tenant, name="Bob Builder", role=Role.MEMBER)

        body = (await api.get(self.path, params={"name": "AGENT"})).json()

        assert names(body) == ["Alice Agent"]
        assert body["meta"]["total"] == 1

    async def test_filters_by_role(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        await make_member(session, tenant, name="Ann Admin", role=Role.ADMIN)
        await make_member(session, tenant, name="Bob Agent", role=Role.AGENT)

        body = (await api.get(self.path, params={"role": "agent"})).json()

        assert names(body) == ["Alice Agent", "Bob Agent"]
        assert {item["role"] for item in body["data"]} == {"agent"}

    async def test_an_unknown_role_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get(self.path, params={"role": "boss"})

        assert response.status_code == 422
        body = response.json()
        assert body["message"] == "The selected role is invalid."
        assert body["errors"] == {"role": ["The selected role is invalid."]}

    async def test_members_of_another_workspace_never_appear(
        self,
        api: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
    ) -> None:
        await stranger(sessions, server_secret)

        body = (await api.get(self.path)).json()

        assert body["meta"]["total"] == 1
        assert names(body) == ["Ada Owner"]


class TestTeamFlows(_NeedsManageTeam):
    path = "/team-flows"

    async def test_lists_the_workspace_bots(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        telegram = await make_bot(
            session, tenant.workspace_id, name="Sales bot", channel="telegram"
        )

        body = (await api.get(self.path)).json()

        assert body["data"] == [
            {"name": "Acme bot", "flow_ns": tenant.flow_ns, "type": "web", "linked_label": None},
            {
                "name": "Sales bot",
                "flow_ns": f"f{telegram}",
                "type": "telegram",
                "linked_label": None,
            },
        ]
        assert body["meta"]["total"] == 2

    async def test_filters_by_part_of_the_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_bot(session, tenant.workspace_id, name="Sales bot")
        await make_bot(session, tenant.workspace_id, name="Support bot")

        body = (await api.get(self.path, params={"name": "sales"})).json()

        assert names(body) == ["Sales bot"]

    async def test_filters_by_channel_type(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_bot(session, tenant.workspace_id, name="Sales bot", channel="telegram")
        await make_bot(session, tenant.workspace_id, name="Support bot", channel="whatsapp")

        body = (await api.get(self.path, params={"type": "telegram"})).json()

        assert names(body) == ["Sales bot"]
        assert body["data"][0]["type"] == "telegram"

    async def test_honours_limit_and_page(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(2):
            await make_bot(session, tenant.workspace_id, name=f"Bot {n}")

        body = (await api.get(self.path, params={"limit": 2, "page": 2})).json()

        assert names(body) == ["Bot 1"]
        assert body["meta"]["last_page"] == 2
        assert body["meta"]["total"] == 3

    async def test_bots_of_another_workspace_never_appear(
        self,
        api: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        await stranger(sessions, server_secret)

        body = (await api.get(self.path)).json()

        assert [bot["flow_ns"] for bot in body["data"]] == [tenant.flow_ns]


class TestTeamBotUsers(_NeedsManageTeam):
    path = "/team-bot-users"

    async def test_answers_subscribers_of_every_bot_of_the_workspace(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        second_bot = await make_bot(session, tenant.workspace_id, name="Sales bot")
        first = await make_subscriber(session, tenant.bot_id, name="Ann One")
        second = await make_subscriber(session, second_bot, name="Ben Two")

        body = (await api.get(self.path)).json()

        by_name = {item["name"]: item for item in body["data"]}
        assert by_name["Ann One"]["user_ns"] == f"f{tenant.bot_id}u{first.number}"
        assert by_name["Ann One"]["flow_ns"] == tenant.flow_ns
        assert by_name["Ben Two"]["user_ns"] == f"f{second_bot}u{second.number}"
        assert by_name["Ben Two"]["channels"][0]["type"] == "web"

    async def test_pages_carry_meta(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(3):
            await make_subscriber(session, tenant.bot_id, name=f"Person {n}")

        body = (await api.get(self.path, params={"limit": 2, "page": 2})).json()

        assert len(body["data"]) == 1
        assert body["meta"] == {
            "current_page": 2,
            "last_page": 2,
            "per_page": 2,
            "total": 3,
            "from": 3,
            "to": 3,
        }

    async def test_most_recent_interaction_comes_first(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        now = utcnow()
        # Someone who never wrote ranks by when they arrived.
        await make_subscriber(
            session, tenant.bot_id, name="Never Spoke", created_at=now - 72 * HOUR
        )
        await make_subscriber(
            session, tenant.bot_id, name="Spoke Long Ago", last_interaction_at=now - 48 * HOUR
        )
        await make_subscriber(
            session, tenant.bot_id, name="Spoke Just Now", last_interaction_at=now - HOUR
        )

        body = (await api.get(self.path)).json()

        assert names(body) == ["Spoke Just Now", "Spoke Long Ago", "Never Spoke"]

    async def test_filters_by_part_of_the_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(session, tenant.bot_id, name="Grace Hopper")
        await make_subscriber(session, tenant.bot_id, name="Alan Turing")

        body = (await api.get(self.path, params={"name": "hopp"})).json()

        assert names(body) == ["Grace Hopper"]
        assert body["meta"]["total"] == 1

    @pytest.mark.parametrize(
        "phone", ["+61 400 123 456", "+61400123456", "61400123456", "400123456", "61 400-123-456"]
    )
    async def test_phone_matches_with_or_without_plus_and_spaces(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, phone: str
    ) -> None:
        await make_subscriber(session, tenant.bot_id, name="Aussie", phone="+61 400 123 456")
        await make_subscriber(session, tenant.bot_id, name="Yankee", phone="+1 555 0100")

        body = (await api.get(self.path, params={"phone": phone})).json()

        assert names(body) == ["Aussie"]

    async def test_filters_by_email(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(session, tenant.bot_id, name="Grace", email="grace@navy.example")
        await make_subscriber(session, tenant.bot_id, name="Alan", email="alan@bletchley.example")

        body = (await api.get(self.path, params={"email": "grace@navy.example"})).json()

        assert names(body) == ["Grace"]
        assert body["data"][0]["email"] == "grace@navy.example"

    async def test_filters_by_channel(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(session, tenant.bot_id, name="On Telegram", channel="telegram")
        await make_subscriber(session, tenant.bot_id, name="On Web", channel="web")

        body = (await api.get(self.path, params={"is_channel": "telegram"})).json()

        assert names(body) == ["On Telegram"]

    @pytest.mark.parametrize(
        ("parameter", "column"),
        [("is_opt_in_email", "opted_in_email_at"), ("is_opt_in_sms", "opted_in_sms_at")],
    )
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("yes", "Opted In"), ("true", "Opted In"), ("no", "Opted Out"), ("false", "Opted Out")],
    )
    async def test_filters_by_opt_in(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        parameter: str,
        column: str,
        value: str,
        expected: str,
    ) -> None:
        opted_in: dict[str, Any] = {column: utcnow()}
        await make_subscriber(session, tenant.bot_id, name="Opted In", **opted_in)
        await make_subscriber(session, tenant.bot_id, name="Opted Out")

        body = (await api.get(self.path, params={parameter: value})).json()

        assert names(body) == [expected]

    @pytest.mark.parametrize(
        ("parameter", "column"),
        [
            ("is_interacted_in_last_24h", "last_interaction_at"),
            ("is_bot_interacted_in_last_24h", "last_bot_interaction_at"),
            ("is_last_message_in_last_24h", "last_message_at"),
        ],
    )
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("yes", {"Recent"}),
            ("true", {"Recent"}),
            ("no", {"Stale", "Never"}),
            ("false", {"Stale", "Never"}),
        ],
    )
    async def test_filters_by_activity_in_the_last_24_hours(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        parameter: str,
        column: str,
        value: str,
        expected: set[str],
    ) -> None:
        now = utcnow()
        recent: dict[str, Any] = {column: now - HOUR}
        stale: dict[str, Any] = {column: now - 25 * HOUR}
        await make_subscriber(session, tenant.bot_id, name="Recent", **recent)
        await make_subscriber(session, tenant.bot_id, name="Stale", **stale)
        await make_subscriber(session, tenant.bot_id, name="Never")

        body = (await api.get(self.path, params={parameter: value})).json()

        assert set(names(body)) == expected

    @pytest.mark.parametrize(
        "parameter",
        [
            "is_opt_in_email",
            "is_opt_in_sms",
            "is_interacted_in_last_24h",
            "is_bot_interacted_in_last_24h",
            "is_last_message_in_last_24h",
        ],
    )
    async def test_a_flag_that_is_not_yes_or_no_answers_422(
        self, api: httpx.AsyncClient, parameter: str
    ) -> None:
        response = await api.get(self.path, params={parameter: "maybe"})

        assert response.status_code == 422
        body = response.json()
        assert body["message"] == f"The {parameter} field must be yes or no."
        assert body["errors"] == {parameter: [f"The {parameter} field must be yes or no."]}

    async def test_an_empty_flag_is_no_filter(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(session, tenant.bot_id, name="Anyone")

        body = (await api.get(self.path, params={"is_opt_in_email": ""})).json()

        assert names(body) == ["Anyone"]

    async def test_subscribers_of_another_workspace_never_appear(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        other = await stranger(sessions, server_secret)
        await make_subscriber(session, other.bot_id, name="Grace Elsewhere", phone="+1 555 0100")
        await make_subscriber(session, tenant.bot_id, name="Grace Here")

        everyone = (await api.get(self.path)).json()
        by_name = (await api.get(self.path, params={"name": "Grace"})).json()
        by_phone = (await api.get(self.path, params={"phone": "15550100"})).json()

        assert names(everyone) == ["Grace Here"]
        assert everyone["meta"]["total"] == 1
        assert names(by_name) == ["Grace Here"]
        assert by_phone["data"] == []
        assert by_phone["meta"]["total"] == 0


async def busy_yesterday(session: AsyncSession, tenant: Tenant) -> tuple[int, int]:
    """A day of work on the tenant's bot: three new subscribers, two agents, one resolution.

    Returns the ids of the two agents, Alice and Bob.
    """
    alice = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
    bob = await make_member(session, tenant, name="Bob Agent", role=Role.AGENT)
    regular = await make_subscriber(
        session, tenant.bot_id, created_at=yesterday_at("00:00:00") - 72 * HOUR
    )
    resolved = await make_subscriber(
        session,
        tenant.bot_id,
        created_at=yesterday_at("09:00:00"),
        assigned_agent_id=alice,
        status="done",
        done_at=yesterday_at("11:00:00"),
    )
    waiting = await make_subscriber(
        session, tenant.bot_id, created_at=yesterday_at("10:00:00"), assigned_agent_id=bob
    )
    greeted = await make_subscriber(session, tenant.bot_id, created_at=yesterday_at("12:00:00"))
    await make_subscriber(session, tenant.bot_id)  # today: not part of yesterday at all

    await make_message(session, regular, direction="in", at=yesterday_at("08:00:00"))
    await make_message(session, resolved, direction="in", at=yesterday_at("09:00:00"))
    await make_message(session, resolved, direction="in", at=yesterday_at("09:01:00"))
    await make_message(session, resolved, direction="out", at=yesterday_at("09:01:05"))
    await make_message(
        session, resolved, direction="agent", at=yesterday_at("09:05:00"), agent_id=alice
    )
    await make_message(
        session, resolved, direction="note", at=yesterday_at("09:06:00"), agent_id=alice
    )
    await make_message(session, waiting, direction="in", at=yesterday_at("10:00:00"))
    await make_message(
        session, waiting, direction="agent", at=yesterday_at("10:01:40"), agent_id=bob
    )
    await make_message(
        session, waiting, direction="agent", at=yesterday_at("10:02:00"), agent_id=bob
    )
    await make_message(session, waiting, direction="system", at=yesterday_at("10:03:00"))
    await make_message(session, greeted, direction="out", at=yesterday_at("12:00:00"))
    return alice, bob


class TestFlowSummary(_NeedsManageTeam):
    path = "/flow-summary"

    async def test_default_range_is_yesterday_with_a_row_per_bot(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        second_bot = await make_bot(session, tenant.workspace_id, name="Sales bot")

        response = await api.get(self.path)

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        yesterday = (utcnow().date() - dt.timedelta(days=1)).isoformat()
        assert [(row["summary_date"], row["flow_ns"]) for row in body["data"]] == [
            (yesterday, tenant.flow_ns),
            (yesterday, f"f{second_bot}"),
        ]

    async def test_figures_come_from_subscribers_and_messages(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await busy_yesterday(session, tenant)

        (row,) = (await api.get(self.path, params={"range": "yesterday"})).json()["data"]

        assert row == {
            "flow_ns": tenant.flow_ns,
            "summary_date": yesterday_at("00:00:00").date().isoformat(),
            "total_bot_users": 4,
            "day_active_bot_users": 3,
            "day_new_bot_users": 3,
            "day_total_messages": 9,
            "day_in_messages": 4,
            "day_out_messages": 2,
            "day_agent_messages": 3,
            "day_note_messages": 1,
            "day_assigned": 2,
            "day_done": 1,
            "day_email_sent": 0,
            "day_email_open": 0,
            "avg_agent_response_time": 200,  # (300 + 100) / 2
            "avg_resolve_time": 7200,
        }

    @pytest.mark.parametrize("range_", list(Range))
    async def test_each_range_answers_a_row_for_each_of_its_days(
        self, api: httpx.AsyncClient, range_: Range
    ) -> None:
        first, last = days_of(range_, utcnow().date())

        data = (await api.get(self.path, params={"range": range_.value})).json()["data"]

        dates = [row["summary_date"] for row in data]
        assert dates[0] == first.isoformat()
        assert dates[-1] == last.isoformat()
        assert len(dates) == (last - first).days + 1
        assert dates == sorted(dates)

    async def test_flow_ns_keeps_only_that_bot(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        second_bot = await make_bot(session, tenant.workspace_id, name="Sales bot")
        await make_subscriber(session, second_bot, created_at=yesterday_at("10:00:00"))

        data = (await api.get(self.path, params={"flow_ns": f"f{second_bot}"})).json()["data"]

        assert [(row["flow_ns"], row["day_new_bot_users"]) for row in data] == [
            (f"f{second_bot}", 1)
        ]

    @pytest.mark.parametrize("flow_ns", ["f999999", "garbage", "f1u1"])
    async def test_an_unknown_flow_ns_answers_404(
        self, api: httpx.AsyncClient, flow_ns: str
    ) -> None:
        response = await api.get(self.path, params={"flow_ns": flow_ns})

        assert response.status_code == 404
        assert response.json() == {"message": "Flow not found"}

    async def test_another_workspaces_flow_ns_answers_404(
        self,
        api: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
    ) -> None:
        other = await stranger(sessions, server_secret)

        response = await api.get(self.path, params={"flow_ns": other.flow_ns})

        assert response.status_code == 404
        assert response.json() == {"message": "Flow not found"}

    async def test_an_unknown_range_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get(self.path, params={"range": "last_century"})

        assert response.status_code == 422
        body = response.json()
        assert body["message"] == "The selected range is invalid."
        assert body["errors"] == {"range": ["The selected range is invalid."]}


class TestFlowAgentSummary(_NeedsManageTeam):
    path = "/flow-agent-summary"

    async def test_default_range_is_yesterday(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        alice = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        await make_subscriber(
            session, tenant.bot_id, created_at=yesterday_at("10:00:00"), assigned_agent_id=alice
        )
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=yesterday_at("00:00:00") - 24 * HOUR,
            assigned_agent_id=alice,
        )

        response = await api.get(self.path)

        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        data = response.json()["data"]
        yesterday = yesterday_at("00:00:00").date().isoformat()
        assert [(row["summary_date"], row["agent_id"], row["day_assigned"]) for row in data] == [
            (yesterday, alice, 1)
        ]

    async def test_figures_per_agent_come_from_their_own_work(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        alice, bob = await busy_yesterday(session, tenant)

        data = (await api.get(self.path, params={"range": "yesterday"})).json()["data"]

        yesterday = yesterday_at("00:00:00").date().isoformat()
        assert data == [
            {
                "flow_ns": tenant.flow_ns,
                "summary_date": yesterday,
                "agent_id": alice,
                "day_reply_bot_users": 1,
                "day_agent_messages": 1,
                "day_note_messages": 1,
                "day_assigned": 1,
                "day_done": 1,
                "avg_agent_response_time": 300,
                "avg_resolve_time": 7200,
            },
            {
                "flow_ns": tenant.flow_ns,
                "summary_date": yesterday,
                "agent_id": bob,
                "day_reply_bot_users": 1,
                "day_agent_messages": 2,
                "day_note_messages": 0,
                "day_assigned": 1,
                "day_done": 0,
                "avg_agent_response_time": 100,
                "avg_resolve_time": 0,
            },
        ]

    async def test_no_rows_when_no_agent_did_anything(self, api: httpx.AsyncClient) -> None:
        for range_ in Range:
            body = (await api.get(self.path, params={"range": range_.value})).json()
            assert body == {"data": [], "status": "ok"}

    async def test_flow_ns_keeps_only_that_bot(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        alice, _ = await busy_yesterday(session, tenant)
        second_bot = await make_bot(session, tenant.workspace_id, name="Sales bot")
        there = await make_subscriber(session, second_bot, created_at=yesterday_at("07:00:00"))
        await make_message(
            session, there, direction="note", at=yesterday_at("07:30:00"), agent_id=alice
        )

        only_second = (await api.get(self.path, params={"flow_ns": f"f{second_bot}"})).json()
        everything = (await api.get(self.path)).json()

        assert [(row["flow_ns"], row["agent_id"]) for row in only_second["data"]] == [
            (f"f{second_bot}", alice)
        ]
        assert len(everything["data"]) == 3

    @pytest.mark.parametrize("flow_ns", ["f999999", "garbage"])
    async def test_an_unknown_flow_ns_answers_404(
        self, api: httpx.AsyncClient, flow_ns: str
    ) -> None:
        response = await api.get(self.path, params={"flow_ns": flow_ns})

        assert response.status_code == 404
        assert response.json() == {"message": "Flow not found"}

    async def test_another_workspaces_flow_ns_answers_404(
        self,
        api: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
    ) -> None:
        other = await stranger(sessions, server_secret)

        response = await api.get(self.path, params={"flow_ns": other.flow_ns})

        assert response.status_code == 404
        assert response.json() == {"message": "Flow not found"}

    async def test_an_unknown_range_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get(self.path, params={"range": "forever"})

        assert response.status_code == 422
        assert response.json()["message"] == "The selected range is invalid."
