"""Helpers for dashboard tests: signing in from a browser or from httpx, and extra people.

Fixtures using these live in this directory's conftest.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import httpx
from playwright.async_api import BrowserContext, Page, Request, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import Role

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS: Final = 15_000
CSRF_INPUT: Final = re.compile(r'name="csrf_token" value="([^"]+)"')


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Network:
    """Lets requests to the server under test through; refuses and records everything else,
    so a test shows the pages need nothing from outside."""

    base_url: str
    blocked: list[str] = field(default_factory=list)

    async def handle(self, route: Route, request: Request) -> None:
        if origin(request.url) == origin(self.base_url):
            await route.continue_()
        else:
            self.blocked.append(request.url)
            await route.abort("blockedbyclient")


@dataclass
class Browsing:
    """A browser context of one test, with what its pages tried and broke."""

    context: BrowserContext
    network: Network
    page_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    user_id: int


async def make_person(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    role: Role,
    *,
    name: str = "Sam Agent",
    email: str = "agent@example.com",
    password: str = "agent password 123",
) -> Credentials:
    """A user who is a member of `workspace_id` with `role`."""
    async with session_scope(sessions) as session:
        user = await workspaces.create_user(session, name=name, email=email, password=password)
        await workspaces.add_member(session, workspace_id, user, role=role)
        return Credentials(email=email, password=password, user_id=user.id)


async def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in through the login form and wait for the dashboard to show."""
    await page.goto(f"{base_url}/dashboard/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("navigation", name="Sections")).to_be_visible()


class DashboardClient:
    """An httpx client signed in to the dashboard, with its session's CSRF token at hand."""

    def __init__(self, client: httpx.AsyncClient, csrf_token: str) -> None:
        self.http = client
        self.csrf_token = csrf_token

    @classmethod
    async def signed_in(cls, base_url: str, email: str, password: str) -> DashboardClient:
        client = httpx.AsyncClient(base_url=base_url, follow_redirects=False)
        token = await page_csrf_token(client, "/dashboard/login")
        answer = await client.post(
            "/dashboard/login",
            data={"email": email, "password": password, "csrf_token": token},
        )
        assert answer.status_code == 303, answer.text
        return cls(client, await page_csrf_token(client, "/dashboard"))

    async def post(self, path: str, data: dict[str, str | list[str]]) -> httpx.Response:
        """A form post carrying the session's CSRF token, as the pages' forms do."""
        return await self.http.post(path, data={**data, "csrf_token": self.csrf_token})

    async def aclose(self) -> None:
        await self.http.aclose()


async def page_csrf_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_INPUT.search(page.text)
    assert found is not None, "the page has no CSRF input"
    return found.group(1)
