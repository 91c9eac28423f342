"""The one-time link's dashboard page: a signed-in user sees what the template holds, picks one
of their bots and installs it there, once; a used, expired or unknown link is explained."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from dashboard_browsing import DashboardClient
from fastapi import FastAPI
from pages_support import flashes, owner_fixture, text_of, workspace_of  # noqa: F401
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import make_bot
from konversation.db import utcnow
from konversation.demo import DemoSecrets
from konversation.flow_templates.models import TemplateLink
from konversation.flows.models import Tag, TemplateInstall


@pytest.fixture
async def api(app: FastAPI, demo: DemoSecrets) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver/api",
        headers={"Authorization": f"Bearer {demo.api_key}"},
    )


async def link_path(api: httpx.AsyncClient) -> str:
    """A one-time link to a template of the demo bot, as the path of its dashboard page."""
    made = await api.post("/template/create", json={"name": "Demo kit", "description": "Hi!"})
    assert made.status_code == 200, made.text
    ns = made.json()["data"]["template_ns"]
    link = await api.post(f"/template/{ns}/generate-one-time-link")
    assert link.status_code == 200, link.text
    return str(httpx.URL(link.json()["data"]["url"]).path)


async def test_the_page_shows_the_template_and_the_bots_to_choose(
    owner: DashboardClient, api: httpx.AsyncClient, demo: DemoSecrets
) -> None:
    page = await owner.http.get(await link_path(api))
    assert page.status_code == 200
    shown = text_of(page)
    assert "Install a template Demo kit" in shown
    assert "Hi!" in shown
    assert re.search(rf'<option value="{demo.bot_id}">', page.text)


async def test_installing_into_a_chosen_bot_imports_its_flows_once(
    owner: DashboardClient, api: httpx.AsyncClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    path = await link_path(api)
    target = await make_bot(session, await workspace_of(session, demo.bot_id), name="Fresh bot")
    answer = await owner.post(path, {"bot_id": str(target)})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard/flows"
    flows_page = await owner.http.get("/dashboard/flows")
    [(kind, message)] = flashes(flows_page)
    assert kind == "success"
    assert message.startswith("Installed Demo kit into Fresh bot: flows ")
    session.expire_all()
    source_tags = (await session.scalars(select(Tag.name).where(Tag.bot_id == demo.bot_id))).all()
    target_tags = (await session.scalars(select(Tag.name).where(Tag.bot_id == target))).all()
    assert sorted(target_tags) == sorted(source_tags)
    installs = (await session.scalars(select(TemplateInstall.bot_id))).all()
    assert installs == [target]

    again = await owner.post(path, {"bot_id": str(target)})
    assert again.status_code == 409
    assert "This install link has already been used." in text_of(again)
    reopened = await owner.http.get(path)
    assert reopened.status_code == 409


async def test_an_expired_link_is_explained(
    owner: DashboardClient, api: httpx.AsyncClient, session: AsyncSession
) -> None:
    path = await link_path(api)
    await session.execute(
        update(TemplateLink).values(expires_at=utcnow() - dt.timedelta(minutes=1))
    )
    await session.commit()
    page = await owner.http.get(path)
    assert page.status_code == 409
    assert "This install link expired at" in text_of(page)


async def test_an_unknown_link_is_not_found(owner: DashboardClient) -> None:
    page = await owner.http.get("/dashboard/templates/install/no-such-token")
    assert page.status_code == 404
    assert "Install link not found" in text_of(page)


async def test_a_bot_the_user_does_not_build_in_is_refused(
    owner: DashboardClient, api: httpx.AsyncClient, session: AsyncSession
) -> None:
    path = await link_path(api)
    answer = await owner.post(path, {"bot_id": "999999"})
    assert answer.status_code == 404
    link = await session.scalar(select(TemplateLink))
    assert link is not None
    assert link.used_at is None


async def test_signing_in_leads_back_to_the_link(app: FastAPI, api: httpx.AsyncClient) -> None:
    path = await link_path(api)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        answer = await anonymous.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dashboard/login?next={path}"
