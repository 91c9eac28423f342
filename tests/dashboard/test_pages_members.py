"""The members page, and what each role sees: an agent handles subscribers, their chats and the
shop's orders, and sees nothing of the bot's setup or the workspace's people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dashboard_browsing import DashboardClient, make_person
from fastapi import FastAPI
from pages_support import (  # noqa: F401
    flashes,
    owner_fixture,
    post_and_follow,
    signed_in,
    text_of,
    workspace_of,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import make_subscriber
from konversation.demo import DemoSecrets
from konversation.flows.service import SUB_FLOWS
from konversation.workspaces.models import Role

SETUP_PAGES = (
    "/dashboard/bots",
    "/dashboard/bots/{bot}",
    "/dashboard/flows",
    "/dashboard/flows/main",
    "/dashboard/flows/export",
    "/dashboard/tags",
    "/dashboard/members",
)
AGENT_PAGES = ("/dashboard/subscribers", "/dashboard/shop/orders", "/dashboard/shop/products")


async def _person(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: DemoSecrets,
    role: Role,
) -> DashboardClient:
    person = await make_person(
        sessions,
        await workspace_of(session, demo.bot_id),
        role,
        name=f"Sam {role.value.title()}",
        email=f"{role.value}@example.com",
    )
    return await signed_in(app, person.email, person.password)


@pytest.fixture
async def agent(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: DemoSecrets,
) -> AsyncIterator[DashboardClient]:
    client = await _person(app, sessions, session, demo, Role.AGENT)
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_members_page_lists_everyone_with_their_role(
    owner: DashboardClient,
    agent: DashboardClient,
    demo: DemoSecrets,
) -> None:
    page = await owner.http.get("/dashboard/members")
    assert page.status_code == 200
    text = text_of(page)
    assert "Demo Owner (you) owner@example.com owner" in text
    assert "Sam Agent agent@example.com agent" in text
    agents_only = text_of(await owner.http.get("/dashboard/members?role=agent"))
    assert "Sam Agent" in agents_only
    assert "owner@example.com" not in agents_only


async def test_an_agent_sees_no_setup_pages(agent: DashboardClient, demo: DemoSecrets) -> None:
    for path in SETUP_PAGES:
        answer = await agent.http.get(path.format(bot=demo.bot_id))
        assert answer.status_code == 403, path
        assert "You do not have access to this page." in answer.text
    refused = await agent.post(
        f"/dashboard/bots/{demo.bot_id}/api", {"webhook_url": "https://x.io"}
    )
    assert refused.status_code == 403
    assert (await agent.post("/dashboard/tags/create", {"name": "Mine"})).status_code == 403


async def test_an_agent_handles_subscribers_and_sees_the_shop(
    agent: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    for path in AGENT_PAGES:
        assert (await agent.http.get(path)).status_code == 200, path
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    welcome = await SUB_FLOWS.by_name(session, demo.bot_id, "Welcome")
    page = await post_and_follow(
        agent,
        f"/dashboard/subscribers/f{demo.bot_id}u{zoe.number}/send-flow",
        {"sub_flow_ns": f"f{demo.bot_id}s{welcome.number}"},
    )
    assert flashes(page) == [("success", 'Sent the sub flow "Welcome".')]


async def test_a_member_builds_but_does_not_see_keys(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: DemoSecrets,
) -> None:
    member = await _person(app, sessions, session, demo, Role.MEMBER)
    try:
        for path in (*SETUP_PAGES, *AGENT_PAGES):
            assert (await member.http.get(path.format(bot=demo.bot_id))).status_code == 200, path
    finally:
        await member.aclose()
