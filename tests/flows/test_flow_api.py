"""The Flow group: sub flows, start flows, agents, counts and flow-level settings."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_member, make_sub_flow, make_subscriber, make_tenant
from konversation.flows.models import InboundWebhook, TemplateInstall
from konversation.workspaces.models import Bot, Role


async def _bot(sessions: Sessions, bot_id: int) -> Bot:
    async with sessions() as fresh:
        bot = await fresh.get(Bot, bot_id)
        assert bot is not None
        return bot


class TestSubFlows:
    async def test_lists_sub_flows_but_not_the_main_flow(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        welcome = await make_sub_flow(session, tenant.bot_id, "Welcome")
        await make_sub_flow(session, tenant.bot_id, "Opening hours")
        body = (await api.get("/flow/subflows")).json()
        assert body["data"][0] == {"name": "Welcome", "sub_flow_ns": welcome}
        assert [f["name"] for f in body["data"]] == ["Welcome", "Opening hours"]
        assert body["meta"]["total"] == 2

    async def test_filters_by_name_and_pages(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(5):
            await make_sub_flow(session, tenant.bot_id, f"Promo {n}")
        await make_sub_flow(session, tenant.bot_id, "Support")
        body = (await api.get("/flow/subflows", params={"name": "promo", "limit": 2})).json()
        assert [f["name"] for f in body["data"]] == ["Promo 0", "Promo 1"]
        assert body["meta"]["total"] == 5
        assert body["meta"]["last_page"] == 3

    async def test_delete_removes_it(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        ns = await make_sub_flow(session, tenant.bot_id, "Old")
        response = await api.request("DELETE", "/flow/delete-sub-flow", json={"sub_flow_ns": ns})
        assert response.json() == {"status": "ok"}
        assert (await api.get("/flow/subflows")).json()["data"] == []

    async def test_deleting_the_start_flow_falls_back_to_the_main_flow(
        self, api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, tenant: Tenant
    ) -> None:
        ns = await make_sub_flow(session, tenant.bot_id, "Start here")
        await api.post("/flow/set-default-start-flow", json={"sub_flow_ns": ns})
        await api.post("/flow/set-web-chat-widget-default-start-flow", json={"sub_flow_ns": ns})
        await api.request("DELETE", "/flow/delete-sub-flow", json={"sub_flow_ns": ns})
        bot = await _bot(sessions, tenant.bot_id)
        assert bot.start_sub_flow is None
        assert bot.web_chat_start_sub_flow is None

    async def test_the_main_flow_cannot_be_deleted(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.request(
            "DELETE", "/flow/delete-sub-flow", json={"sub_flow_ns": f"f{tenant.bot_id}s0"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Sub flow not found"}

    async def test_missing_sub_flow_ns_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.request("DELETE", "/flow/delete-sub-flow", json={})
        assert response.status_code == 422
        assert response.json()["errors"] == {"sub_flow_ns": ["The sub_flow_ns field is required."]}


class TestStartFlows:
    @pytest.mark.parametrize(
        ("path", "column"),
        [
            ("/flow/set-default-start-flow", "start_sub_flow"),
            ("/flow/set-web-chat-widget-default-start-flow", "web_chat_start_sub_flow"),
        ],
    )
    async def test_sets_a_sub_flow_then_back_to_main(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        path: str,
        column: str,
    ) -> None:
        ns = await make_sub_flow(session, tenant.bot_id, "Onboarding")
        assert (await api.post(path, json={"sub_flow_ns": ns})).json() == {"status": "ok"}
        assert getattr(await _bot(sessions, tenant.bot_id), column) == int(ns.split("s")[-1])
        assert (await api.post(path, json={"sub_flow_ns": "main"})).json() == {"status": "ok"}
        assert getattr(await _bot(sessions, tenant.bot_id), column) is None

    async def test_an_unknown_sub_flow_answers_404_and_changes_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/flow/set-default-start-flow", json={"sub_flow_ns": f"f{tenant.bot_id}s42"}
        )
        assert response.status_code == 404
        assert (await _bot(sessions, tenant.bot_id)).start_sub_flow is None


class TestAudioTranscription:
    async def test_sets_a_known_model(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/flow/settings/set-audio-transcription", json={"stt_model": "whisper-1"}
        )
        assert response.json() == {"status": "ok"}
        assert (await _bot(sessions, tenant.bot_id)).stt_model == "whisper-1"

    async def test_an_unknown_model_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/flow/settings/set-audio-transcription", json={"stt_model": "gpt-9"}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"stt_model": ["The selected stt_model is invalid."]}


class TestBotUsersCount:
    async def test_counts_every_status_including_zeros(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for status in ("open", "open", "done", "spam"):
            await make_subscriber(session, tenant.bot_id, status=status)
        body = (await api.get("/flow/bot-users-count")).json()
        assert body == {
            "data": [
                {"status": "open", "num": 2},
                {"status": "pending", "num": 0},
                {"status": "spam", "num": 1},
                {"status": "done", "num": 1},
            ],
            "status": "ok",
        }

    async def test_counts_only_this_bot(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await make_subscriber(session, other.bot_id)
        body = (await api.get("/flow/bot-users-count")).json()
        assert sum(row["num"] for row in body["data"]) == 0


class TestAgents:
    async def test_lists_workspace_members_with_roles(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent_id = await make_member(session, tenant, name="Alex Agent", role=Role.AGENT)
        body = (await api.get("/flow/agents")).json()
        assert [(a["name"], a["role"]) for a in body["data"]] == [
            ("Ada Owner", "owner"),
            ("Alex Agent", "agent"),
        ]
        agent = body["data"][1]
        assert agent == {
            "id": agent_id,
            "name": "Alex Agent",
            "email": "alex.agent@example.com",
            "image": None,
            "is_online": False,
            "role": "agent",
        }

    async def test_filters_by_role_and_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_member(session, tenant, name="Alex Agent", role=Role.AGENT)
        await make_member(session, tenant, name="Mia Member", role=Role.MEMBER)
        by_role = (await api.get("/flow/agents", params={"role": "member"})).json()
        assert [a["name"] for a in by_role["data"]] == ["Mia Member"]
        by_name = (await api.get("/flow/agents", params={"name": "alex"})).json()
        assert [a["name"] for a in by_name["data"]] == ["Alex Agent"]

    async def test_an_unknown_role_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/flow/agents", params={"role": "boss"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"role": ["The selected role is invalid."]}


class TestTemplateInstalls:
    async def test_empty_until_a_template_is_installed(self, api: httpx.AsyncClient) -> None:
        body = (await api.get("/flow/template-installs")).json()
        assert body["data"] == []
        assert body["meta"]["total"] == 0

    async def test_lists_installs_newest_first(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for version in ("1.0", "1.1"):
            session.add(
                TemplateInstall(
                    bot_id=tenant.bot_id, template_ns="tpl1", scope="sub_flow", version=version
                )
            )
            await session.commit()
        body = (await api.get("/flow/template-installs")).json()
        assert [i["version"] for i in body["data"]] == ["1.1", "1.0"]
        first = body["data"][0]
        assert first["flow_ns"] == f"f{tenant.bot_id}"
        assert first["team_id"] == tenant.workspace_id
        assert first["can_view"] == 1
        assert first["uninstalled_at"] is None


class TestInboundWebhooks:
    async def test_lists_webhooks_with_their_urls(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        ns = await make_sub_flow(session, tenant.bot_id, "Order paid")
        number = int(ns.split("s")[-1])
        for name in ("Shop order", "Form"):
            session.add(
                InboundWebhook(
                    bot_id=tenant.bot_id,
                    hook_uid=f"uid-{name[0]}",
                    name=name,
                    sub_flow_number=number,
                )
            )
        await session.commit()
        body = (await api.get("/flow/inbound-webhooks", params={"name": "shop"})).json()
        assert body["data"] == [
            {
                "name": "Shop order",
                "hook_uid": "uid-S",
                "sub_flow_ns": ns,
                "status": "active",
                "url": "http://testserver/webhooks/inbound/uid-S",
            }
        ]


class TestDeletingASubFlowTakesItsWebhooks:
    async def test_webhooks_that_started_it_go_too(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        doomed = await make_sub_flow(session, tenant.bot_id, "Doomed")
        kept = await make_sub_flow(session, tenant.bot_id, "Kept")
        for uid, ns in (("a", doomed), ("b", kept)):
            session.add(
                InboundWebhook(
                    bot_id=tenant.bot_id,
                    hook_uid=uid,
                    name=uid,
                    sub_flow_number=int(ns.split("s")[-1]),
                )
            )
        await session.commit()
        await api.request("DELETE", "/flow/delete-sub-flow", json={"sub_flow_ns": doomed})
        hooks = (await api.get("/flow/inbound-webhooks")).json()["data"]
        assert [(h["hook_uid"], h["sub_flow_ns"]) for h in hooks] == [("b", kept)]
