"""Helpers for the section pages' tests: the dashboard signed in over the in-process app (no
server needed), and reading what a page shows.

Test modules import the `owner` fixture with
`from pages_support import owner_fixture  # noqa: F401`.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any, Final

import httpx
import pytest
from dashboard_browsing import DashboardClient, page_csrf_token
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.demo import DemoSecrets
from konversation.workspaces.models import Bot

FLASH: Final = re.compile(r'<p class="kv-flash kv-flash-(\w+)" role="status">(.*?)</p>', re.S)
TAG: Final = re.compile(r"<[^>]+>")


async def signed_in(
    app: FastAPI, email: str, password: str, *, base_url: str = "http://testserver"
) -> DashboardClient:
    """A dashboard session of `email` on the app in this process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=False)
    token = await page_csrf_token(client, "/dashboard/login")
    answer = await client.post(
        "/dashboard/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    return DashboardClient(client, await page_csrf_token(client, "/dashboard"))


@pytest.fixture(name="owner")
async def owner_fixture(app: FastAPI, demo: DemoSecrets) -> AsyncIterator[DashboardClient]:
    """The demo's owner, signed in to the dashboard of the app under test."""
    client = await signed_in(app, demo.email, demo.password)
    try:
        yield client
    finally:
        await client.aclose()


async def post_and_follow(
    client: DashboardClient, path: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    """Post a form as a browser does, and load the page it sends the browser to."""
    answer = await client.post(path, data)
    assert answer.status_code == 303, answer.text
    return await client.http.get(answer.headers["location"])


def flashes(page: httpx.Response) -> list[tuple[str, str]]:
    """The (kind, text) of the messages a page shows at its top."""
    return [(kind, html.unescape(text).strip()) for kind, text in FLASH.findall(page.text)]


def text_of(page: httpx.Response) -> str:
    """The page's text, tags taken out and spaces collapsed, as a reader sees it."""
    return " ".join(html.unescape(TAG.sub(" ", page.text)).split())


async def workspace_of(session: AsyncSession, bot_id: int) -> int:
    bot = await session.get(Bot, bot_id)
    assert bot is not None
    # End the read: on SQLite, a transaction that read before another committed cannot write.
    await session.commit()
    return bot.workspace_id


def survey_document(*, broken: bool = False) -> dict[str, Any]:
    """A flow document from another bot (f90) holding one sub flow, "Survey", that asks a
    question with quick replies; `broken` makes one of its ports point at no node."""
    ask: dict[str, Any] = {
        "id": "ask",
        "type": "send_message",
        "name": "Ask for a rating",
        "position": {"x": 0, "y": 0},
        "messages": [{"type": "text", "text": "How did we do?"}],
        "quick_replies": [
            {"id": "great", "title": "Loved it", "next": "thanks"},
            {"id": "meh", "title": "Could be better", "next": "nowhere" if broken else "sorry"},
        ],
    }
    return {
        "format": "konversation.flow",
        "version": 1,
        "bot": {"name": "Elsewhere", "flow_ns": "f90"},
        "flows": [
            {
                "name": "Survey",
                "kind": "sub",
                "sub_flow_ns": "f90s1",
                "definition": {
                    "version": 1,
                    "start": "ask",
                    "nodes": [
                        ask,
                        {
                            "id": "thanks",
                            "type": "send_message",
                            "name": "Say thanks",
                            "position": {"x": -150, "y": 200},
                            "messages": [{"type": "text", "text": "Thank you!"}],
                        },
                        {
                            "id": "sorry",
                            "type": "send_message",
                            "name": "Apologise",
                            "position": {"x": 150, "y": 200},
                            "messages": [{"type": "text", "text": "Sorry to hear that."}],
                        },
                    ],
                },
            }
        ],
        "tags": [{"name": "Surveyed", "tag_ns": "f90t1"}],
    }
