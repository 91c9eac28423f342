"""Flow templates over the Connect API: a template is made of a bot's flows, listed, installed
into another bot once through a one-time link (never twice, never after expiry, never half),
logged among its installs, and deleted."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from templates_support import (
    fill_bot,
    install_token,
    installs_made,
    make_link,
    make_template,
    names,
)

from builders import Tenant, make_bot, make_key, make_tenant
from konversation.db import utcnow
from konversation.flow_templates.models import FlowTemplate, TemplateLink


@pytest.fixture
async def other(
    sessions: async_sessionmaker[AsyncSession],
    server_secret: bytes,
    client_for,  # type: ignore[no-untyped-def]
) -> tuple[Tenant, httpx.AsyncClient]:
    """Another workspace, whose bot installs the templates."""
    tenant = await make_tenant(sessions, server_secret)
    return tenant, client_for(tenant.token)


@pytest.fixture
def their_api(other: tuple[Tenant, httpx.AsyncClient]) -> httpx.AsyncClient:
    """The other workspace's API client."""
    return other[1]


async def install(api: httpx.AsyncClient, token: str) -> httpx.Response:
    return await api.post("/template/install", json={"one_time_token": token})


class TestCreateAndList:
    async def test_a_template_is_made_of_the_keys_bot_and_listed(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        made = await make_template(
            api, description="Says hi and tags", version="2.1", image="https://x.test/a.png"
        )
        assert made["template_ns"].startswith("tpl")
        assert made["name"] == "Greeter"
        assert made["description"] == "Says hi and tags"
        assert made["version"] == "2.1"
        assert made["image"] == "https://x.test/a.png"
        assert (made["type"], made["scope"], made["status"], made["price"]) == (
            "web",
            "bot",
            "active",
            0,
        )
        assert made["flow_ns"] == tenant.flow_ns
        listed = (await api.get("/templates")).json()
        assert listed["data"] == [made]
        assert listed["meta"]["total"] == 1

    async def test_the_list_filters_by_name_and_pages(self, api: httpx.AsyncClient) -> None:
        await fill_bot(api)
        for name in ("Survey", "Shop", "Support survey"):
            assert (await api.post("/template/create", json={"name": name})).status_code == 200
        found = (await api.get("/templates", params={"name": "SURVEY"})).json()
        assert [t["name"] for t in found["data"]] == ["Survey", "Support survey"]
        second = (await api.get("/templates", params={"limit": 2, "page": 2})).json()
        assert [t["name"] for t in second["data"]] == ["Support survey"]
        assert second["meta"]["last_page"] == 2

    async def test_the_template_is_a_snapshot(
        self, api: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        made = await make_template(api)
        assert (await api.post("/flow/create-tag", json={"name": "Later"})).status_code == 200
        template = await session.scalar(
            select(FlowTemplate).where(FlowTemplate.template_ns == made["template_ns"])
        )
        assert template is not None
        assert [t["name"] for t in template.document["tags"]] == ["Greeted"]
        assert template.document["format"] == "konversation.flow"

    async def test_another_bot_of_the_workspace_can_be_named(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        second = await make_bot(session, tenant.workspace_id, name="Second", channel="telegram")
        answer = await api.post("/template/create", json={"name": "T", "flow_ns": f"f{second}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["flow_ns"] == f"f{second}"
        assert answer.json()["data"]["type"] == "telegram"

    async def test_a_bot_of_another_workspace_is_not_found(
        self, api: httpx.AsyncClient, other: tuple[Tenant, httpx.AsyncClient]
    ) -> None:
        them, _ = other
        answer = await api.post("/template/create", json={"name": "T", "flow_ns": them.flow_ns})
        assert answer.status_code == 404
        assert answer.json() == {"message": "Flow not found"}
        assert (await api.get("/templates")).json()["data"] == []

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"name": "  "}, "name", "The name field is required."),
            ({}, "name", "The name field is required."),
            ({"name": "T", "flow_ns": "bot-1"}, "flow_ns", "must be a bot id"),
            ({"name": "T", "price": -1}, "price", "at least 0"),
        ],
    )
    async def test_bad_fields_answer_422(
        self, api: httpx.AsyncClient, body: dict[str, Any], field: str, message: str
    ) -> None:
        answer = await api.post("/template/create", json=body)
        assert answer.status_code == 422
        [shown] = answer.json()["errors"][field]
        assert message in shown
        assert (await api.get("/templates")).json()["data"] == []

    async def test_a_workspace_key_of_no_bot_must_name_one(
        self,
        client_for,  # type: ignore[no-untyped-def]
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=["Manage Team"], bot_id=None
        )
        team = client_for(token)
        answer = await team.post("/template/create", json={"name": "T"})
        assert answer.status_code == 422
        assert answer.json()["errors"] == {
            "flow_ns": ["The flow_ns field is required for a key of no bot."]
        }
        named = await team.post("/template/create", json={"name": "T", "flow_ns": tenant.flow_ns})
        assert named.status_code == 200, named.text


class TestOneTimeLinks:
    async def test_a_link_expires_after_30_days_unless_told(self, api: httpx.AsyncClient) -> None:
        made = await make_template(api)
        before = utcnow().replace(microsecond=0)
        default = await make_link(api, made["template_ns"])
        week = await make_link(api, made["template_ns"], days=7)
        expiry = dt.datetime.fromisoformat(default["expired_at"]).replace(tzinfo=dt.UTC)
        assert dt.timedelta(days=30) <= expiry - before <= dt.timedelta(days=30, seconds=5)
        expiry = dt.datetime.fromisoformat(week["expired_at"]).replace(tzinfo=dt.UTC)
        assert dt.timedelta(days=7) <= expiry - before <= dt.timedelta(days=7, seconds=5)
        assert default["one_time_token"] != week["one_time_token"]
        assert default["url"] == (
            f"http://testserver/dashboard/templates/install/{default['one_time_token']}"
        )

    async def test_only_a_digest_of_the_token_is_stored(
        self, api: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        made = await make_template(api)
        link = await make_link(api, made["template_ns"])
        stored = (await session.scalars(select(TemplateLink.token_digest))).all()
        assert len(stored) == 1
        assert link["one_time_token"] not in stored[0]

    @pytest.mark.parametrize("days", [0, 366, -3])
    async def test_days_out_of_range_answer_422(self, api: httpx.AsyncClient, days: int) -> None:
        made = await make_template(api)
        answer = await api.post(
            f"/template/{made['template_ns']}/generate-one-time-link", params={"days": days}
        )
        assert answer.status_code == 422
        assert list(answer.json()["errors"]) == ["days"]

    async def test_an_unknown_template_is_not_found(self, api: httpx.AsyncClient) -> None:
        for answer in (
            await api.post("/template/tplnothing/generate-one-time-link"),
            await api.get("/template/tplnothing/installs"),
            await api.delete("/template/tplnothing/delete"),
        ):
            assert answer.status_code == 404
            assert answer.json() == {"message": "Template not found"}

    async def test_another_workspaces_template_is_not_found(
        self, api: httpx.AsyncClient, their_api: httpx.AsyncClient
    ) -> None:
        theirs = await make_template(their_api)
        ns = theirs["template_ns"]
        assert (await api.post(f"/template/{ns}/generate-one-time-link")).status_code == 404
        assert (await api.get(f"/template/{ns}/installs")).status_code == 404
        assert (await api.delete(f"/template/{ns}/delete")).status_code == 404
        assert [t["template_ns"] for t in (await their_api.get("/templates")).json()["data"]] == [
            ns
        ]


class TestInstall:
    async def test_installing_brings_the_flows_tags_and_fields_into_the_bot(
        self, api: httpx.AsyncClient, other: tuple[Tenant, httpx.AsyncClient]
    ) -> None:
        them, their_api = other
        made = await make_template(api, version="3.0")
        link = await make_link(api, made["template_ns"])
        answer = await install(their_api, link["one_time_token"])
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        assert data["template"]["template_ns"] == made["template_ns"]
        # The sub flow is new; the main flow is the bot's own, replaced by the template's.
        assert data["imported"]["flows"] == {"created": 1, "updated": 1}
        assert data["imported"]["tags"] == {"created": 1, "updated": 0}
        assert data["install"]["flow_ns"] == them.flow_ns
        assert data["install"]["team_id"] == them.workspace_id
        assert data["install"]["version"] == "3.0"
        assert await names(their_api, "/flow/subflows") == ["Greeting"]
        assert await names(their_api, "/flow/tags") == ["Greeted"]
        assert await names(their_api, "/flow/user-fields") == ["nickname"]
        bot_fields = (await their_api.get("/flow/bot-fields")).json()["data"]
        assert [(f["name"], f["value"]) for f in bot_fields] == [("greeting_hours", "9 to 5")]

    async def test_the_installed_flow_names_the_target_bots_ids(
        self, api: httpx.AsyncClient, their_api: httpx.AsyncClient
    ) -> None:
        made = await make_template(api)
        link = await make_link(api, made["template_ns"])
        assert (await install(their_api, link["one_time_token"])).status_code == 200
        exported = (await their_api.get("/flow/export")).json()["data"]
        [tag] = exported["tags"]
        [flow] = [f for f in exported["flows"] if f["name"] == "Greeting"]
        [field] = exported["user_fields"]
        assert flow["definition"]["nodes"][1]["actions"][0]["tag_ns"] == tag["tag_ns"]
        assert flow["definition"]["nodes"][0]["messages"][0]["text"] == (
            f"Hi {{{{{field['var_ns']}|there}}}}!"
        )

    async def test_installs_are_listed_for_the_template_and_for_the_bot(
        self,
        api: httpx.AsyncClient,
        tenant: Tenant,
        other: tuple[Tenant, httpx.AsyncClient],
    ) -> None:
        them, their_api = other
        made = await make_template(api)
        ns = made["template_ns"]
        assert (await install(api, (await make_link(api, ns))["one_time_token"])).status_code == 200
        theirs = await install(their_api, (await make_link(api, ns))["one_time_token"])
        assert theirs.status_code == 200
        listed = (await api.get(f"/template/{ns}/installs")).json()
        assert [(i["flow_ns"], i["team_id"]) for i in listed["data"]] == [
            (them.flow_ns, them.workspace_id),
            (tenant.flow_ns, tenant.workspace_id),
        ]
        assert listed["meta"]["total"] == 2
        assert all(i["template_ns"] == ns and i["scope"] == "bot" for i in listed["data"])
        bots_own = (await their_api.get("/flow/template-installs")).json()["data"]
        assert [i["template_ns"] for i in bots_own] == [ns]

    async def test_installing_again_into_a_bot_updates_its_install(
        self, api: httpx.AsyncClient, their_api: httpx.AsyncClient
    ) -> None:
        ns = (await make_template(api))["template_ns"]
        for _ in range(2):
            token = (await make_link(api, ns))["one_time_token"]
            assert (await install(their_api, token)).status_code == 200
        [entry] = (await api.get(f"/template/{ns}/installs")).json()["data"]
        assert entry["updated_at"] >= entry["created_at"]
        assert await names(their_api, "/flow/subflows") == ["Greeting"]

    async def test_a_second_use_answers_409_and_installs_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        client_for,  # type: ignore[no-untyped-def]
        their_api: httpx.AsyncClient,
    ) -> None:
        third = client_for((await make_tenant(sessions, server_secret)).token)
        token = await install_token(api)
        assert (await install(their_api, token)).status_code == 200
        again = await install(third, token)
        assert again.status_code == 409
        assert again.json() == {"message": "This install link has already been used."}
        assert await names(third, "/flow/subflows") == []
        assert await names(third, "/flow/tags") == []
        assert await installs_made(session) == 1

    async def test_an_expired_link_answers_409_and_installs_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        their_api: httpx.AsyncClient,
    ) -> None:
        token = await install_token(api, days=1)
        await session.execute(
            update(TemplateLink).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()
        answer = await install(their_api, token)
        assert answer.status_code == 409
        assert answer.json()["message"].startswith("This install link expired at ")
        assert await names(their_api, "/flow/subflows") == []
        assert await installs_made(session) == 0

    async def test_an_unknown_token_is_not_found(self, api: httpx.AsyncClient) -> None:
        answer = await install(api, "no-such-token")
        assert answer.status_code == 404
        assert answer.json() == {"message": "Install link not found"}

    async def test_two_uses_at_once_install_once(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        client_for,  # type: ignore[no-untyped-def]
    ) -> None:
        racers = [client_for((await make_tenant(sessions, server_secret)).token) for _ in range(4)]
        token = await install_token(api)
        answers = await asyncio.gather(*(install(racer, token) for racer in racers))
        assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
        installed = [
            racer for racer, a in zip(racers, answers, strict=True) if a.status_code == 200
        ]
        for racer in racers:
            expected = ["Greeting"] if racer in installed else []
            assert await names(racer, "/flow/subflows") == expected
        assert await installs_made(session) == 1

    async def test_a_document_the_import_refuses_writes_nothing_and_keeps_the_link(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        their_api: httpx.AsyncClient,
    ) -> None:
        ns = (await make_template(api))["template_ns"]
        token = (await make_link(api, ns))["one_time_token"]
        template = await session.scalar(select(FlowTemplate).where(FlowTemplate.template_ns == ns))
        assert template is not None
        broken = dict(template.document)
        broken["flows"] = [dict(broken["flows"][0])]
        broken["flows"][0]["definition"] = {**broken["flows"][0]["definition"], "start": "gone"}
        await session.execute(
            update(FlowTemplate).where(FlowTemplate.id == template.id).values(document=broken)
        )
        await session.commit()
        refused = await install(their_api, token)
        assert refused.status_code == 422, refused.text
        assert "flows.0.definition" in " ".join(refused.json()["errors"])
        assert await names(their_api, "/flow/tags") == []
        assert await names(their_api, "/flow/subflows") == []
        assert await installs_made(session) == 0
        link = await session.scalar(select(TemplateLink))
        assert link is not None
        assert link.used_at is None

    async def test_installing_needs_manage_flow(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for,  # type: ignore[no-untyped-def]
    ) -> None:
        token = await install_token(api)
        team_only = client_for(
            await make_key(session, server_secret, tenant, permissions=["Manage Team"])
        )
        answer = await install(team_only, token)
        assert answer.status_code == 403
        assert (await install(api, token)).status_code == 200


class TestDelete:
    async def test_deleting_ends_its_links_and_keeps_installed_flows(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        their_api: httpx.AsyncClient,
    ) -> None:
        ns = (await make_template(api))["template_ns"]
        used = (await make_link(api, ns))["one_time_token"]
        unused = (await make_link(api, ns))["one_time_token"]
        assert (await install(their_api, used)).status_code == 200
        answer = await api.delete(f"/template/{ns}/delete")
        assert answer.json() == {"status": "ok"}
        assert (await api.get("/templates")).json()["data"] == []
        assert (await install(their_api, unused)).status_code == 404
        assert (await session.scalars(select(TemplateLink))).all() == []
        assert await names(their_api, "/flow/subflows") == ["Greeting"]
        kept = (await their_api.get("/flow/template-installs")).json()["data"]
        assert [i["template_ns"] for i in kept] == [ns]
