"""A live server with the demo workspace, and chromium signed in to its dashboard.

Fixtures for every dashboard test:
- `dashboard_url`: the app served on loopback, per test (its background jobs must not outlive
  the test's data).
- `demo`: the demo workspace (`DemoSecrets`: email, password, api_key, bot_id, ...).
- `browser_context`: a fresh chromium context per test (one browser per module) that refuses
  every request off the server under test; `network.blocked` lists what was refused and
  `page_errors` the uncaught script errors of its pages.
- `owner_page`: a page of that context, signed in as the demo's owner, on /dashboard.
- `owner_http`: an httpx `DashboardClient` signed in as the demo's owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from dashboard_browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    Browsing,
    DashboardClient,
    Network,
    log_in,
)
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.app import create_app
from konversation.db import session_scope
from konversation.demo import DemoSecrets, create_demo
from konversation.settings import Settings
from loopback import serving


@pytest.fixture
def dashboard_url(settings: Settings, engine: object) -> Iterator[str]:
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
async def demo(sessions: async_sessionmaker[AsyncSession], server_secret: bytes) -> DemoSecrets:
    async with session_scope(sessions) as session:
        return await create_demo(session, server_secret=server_secret)


@pytest.fixture(scope="module")
async def chromium_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser_context(chromium_browser: Browser, dashboard_url: str) -> AsyncIterator[Browsing]:
    context = await chromium_browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    browsing = Browsing(context, Network(dashboard_url))
    await context.route("**/*", browsing.network.handle)
    context.on("weberror", lambda error: browsing.page_errors.append(str(error.error)))
    try:
        yield browsing
    finally:
        await context.close()


@pytest.fixture
async def owner_page(browser_context: Browsing, dashboard_url: str, demo: DemoSecrets) -> Page:
    page = await browser_context.context.new_page()
    await log_in(page, dashboard_url, demo.email, demo.password)
    return page


@pytest.fixture
async def owner_http(dashboard_url: str, demo: DemoSecrets) -> AsyncIterator[DashboardClient]:
    client = await DashboardClient.signed_in(dashboard_url, demo.email, demo.password)
    try:
        yield client
    finally:
        await client.aclose()
