"""The section pages in a real browser: a flow imported and drawn, a subscriber found and sent
a sub flow, a tag's life, the web chat snippet, and an agent kept out of the bots' setup.

Chromium (Debian's) drives the dashboard served on loopback, signed in as the demo's owner.
"""

from __future__ import annotations

import json

import pytest
from dashboard_browsing import Browsing, log_in, make_person
from pages_support import survey_document, workspace_of
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import make_subscriber
from konversation.demo import DemoSecrets
from konversation.workspaces.models import Role

pytestmark = pytest.mark.browser


def _nothing_went_wrong(browsing: Browsing) -> None:
    assert browsing.network.blocked == []
    assert browsing.page_errors == []


async def test_an_imported_flow_is_drawn_with_its_nodes_and_ports(
    owner_page: Page, browser_context: Browsing
) -> None:
    page = owner_page
    await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Flows").click()
    document = page.get_by_label("or paste the document")
    await document.fill(json.dumps(survey_document(broken=True)))
    await page.get_by_role("button", name="Import").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        'Node "ask" (send_message): the next of quick reply 2 points to node "nowhere"'
    )

    await document.fill(json.dumps(survey_document()))
    await page.get_by_role("button", name="Import").click()
    await expect(page.get_by_role("status")).to_contain_text("Imported: flows 1 created")
    await page.get_by_role("link", name="Survey", exact=True).click()

    diagram = page.get_by_role("img", name="Diagram of Survey")
    await expect(diagram).to_be_visible()
    for name in ("Ask for a rating", "Say thanks", "Apologise", "Loved it", "Could be better"):
        await expect(diagram.get_by_text(name, exact=True)).to_be_visible()
    _nothing_went_wrong(browser_context)


async def test_a_subscriber_found_by_search_is_sent_a_sub_flow(
    owner_page: Page, browser_context: Browsing, demo: DemoSecrets, session: AsyncSession
) -> None:
    await make_subscriber(session, demo.bot_id, name="Zoe Quinn", email="zoe@example.com")
    await make_subscriber(session, demo.bot_id, name="Adam Smith", email="adam@example.com")
    page = owner_page
    await page.get_by_role("link", name="Subscribers").click()
    await page.get_by_label("Search").fill("zoe@example.com")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name="Adam Smith")).to_have_count(0)
    await page.get_by_role("link", name="Zoe Quinn").click()

    await page.get_by_label("Sub flow").select_option(label="Welcome")
    await page.get_by_role("button", name="Send sub flow").click()
    await expect(page.get_by_role("status")).to_have_text('Sent the sub flow "Welcome".')
    chat = page.get_by_role("list", name="Messages")
    await expect(chat).to_contain_text("Glad to have you here.")
    await expect(chat).to_contain_text("Ask me anything, any time.")
    _nothing_went_wrong(browser_context)


async def test_a_tag_is_created_renamed_and_deleted(
    owner_page: Page, browser_context: Browsing
) -> None:
    page = owner_page
    status = page.get_by_role("status")
    await page.get_by_role("link", name="Tags & fields").click()
    await page.get_by_label("New tag").fill("Newsletter")
    await page.get_by_role("button", name="Create tag").click()
    await expect(status).to_have_text('Tag "Newsletter" created.')

    await page.get_by_label("New name for tag Newsletter").fill("Weekly news")
    await page.locator('tr[data-tag="Newsletter"]').get_by_role("button", name="Rename").click()
    await expect(status).to_have_text('Tag "Newsletter" renamed to "Weekly news".')

    row = page.locator('tr[data-tag="Weekly news"]')
    await row.get_by_text("Delete", exact=True).click()
    await row.get_by_role("button", name="Delete tag Weekly news for good").click()
    await expect(status).to_have_text('Tag "Weekly news" deleted.')
    await expect(page.locator('tr[data-tag="Weekly news"]')).to_have_count(0)
    _nothing_went_wrong(browser_context)


async def test_the_web_chat_snippet_is_shown_and_copied(
    owner_page: Page, browser_context: Browsing, dashboard_url: str, demo: DemoSecrets
) -> None:
    await browser_context.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=dashboard_url
    )
    page = owner_page
    await page.get_by_role("link", name="Bots & channels").click()
    await page.get_by_role("link", name="Demo bot", exact=True).click()
    chat = f"{dashboard_url}/webchat/{demo.web_chat_uid}"
    snippet = f'<script src="{chat}/widget.js" async></script>'
    await expect(page.get_by_label("Web chat snippet")).to_have_text(snippet)
    await expect(page.get_by_role("link", name=chat)).to_be_visible()
    await page.get_by_role("button", name="Copy snippet").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == snippet
    _nothing_went_wrong(browser_context)


async def test_an_agent_cannot_see_the_bots_and_channels(
    browser_context: Browsing,
    dashboard_url: str,
    demo: DemoSecrets,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    agent = await make_person(sessions, await workspace_of(session, demo.bot_id), Role.AGENT)
    page = await browser_context.context.new_page()
    await log_in(page, dashboard_url, agent.email, agent.password)
    heading = page.get_by_role("heading", level=1)
    await page.goto(f"{dashboard_url}/dashboard/bots/{demo.bot_id}")
    await expect(heading).to_have_text("Forbidden")
    await expect(page.get_by_text("Web chat")).to_have_count(0)
    await page.get_by_role("link", name="Subscribers").click()
    await expect(heading).to_contain_text("Subscribers")
    _nothing_went_wrong(browser_context)
