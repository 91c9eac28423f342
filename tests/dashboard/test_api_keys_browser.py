"""The API keys page in a real browser: create a key, copy it, use it, revoke it.

Drives Debian's chromium through Playwright against the app served on loopback; the key is
then used from httpx as any program would.
"""

from __future__ import annotations

import re

import httpx
import pytest
from dashboard_browsing import Browsing, log_in, make_person
from playwright.async_api import Dialog, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope
from konversation.demo import DemoSecrets
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import Role, User

pytestmark = pytest.mark.browser


async def call_api(base_url: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=f"{base_url}/api") as client:
        answer = await client.get("/flow/tags", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code


async def open_keys_page(page: Page) -> None:
    await page.get_by_label("User menu").click()
    await page.get_by_role("menuitem", name="API keys").click()
    await expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    # htmx wires its controls once the page has loaded: a change made earlier goes unheard.
    await page.wait_for_load_state("load")


def key_row(page: Page, name: str) -> Locator:
    return page.get_by_role("table", name="API keys").get_by_role("row").filter(has_text=name)


async def test_a_key_is_created_shown_once_copied_used_and_revoked(
    owner_page: Page, browser_context: Browsing, dashboard_url: str
) -> None:
    page = owner_page
    await browser_context.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=dashboard_url
    )
    await open_keys_page(page)
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/keys")
    await expect(key_row(page, "Demo key")).to_contain_text("Demo workspace")

    await page.get_by_label("Name").fill("CRM sync")
    await expect(page.get_by_label("Workspace", exact=True).last).to_have_value("1")
    await expect(page.get_by_label("Chatbot")).to_have_value("1")
    await page.get_by_role("checkbox", name="Manage Team").uncheck()
    await page.get_by_role("button", name="Create key").click()

    dialog = page.get_by_role("dialog", name="Key “CRM sync” created")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("alert")).to_contain_text("it will never be shown again")
    token = await dialog.get_by_label("API key").input_value()
    assert re.fullmatch(r"\S{20,}", token)
    await dialog.get_by_role("button", name="Copy").click()
    await expect(dialog.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == token

    await dialog.get_by_role("button", name="I have copied it").click()
    # Closed, the dialog leaves the page and takes the key along.
    await expect(page.locator("dialog")).to_have_count(0)
    assert token not in await page.content()
    row = key_row(page, "CRM sync")
    await expect(row).to_contain_text("Demo bot")
    await expect(row).to_contain_text("Manage Flow")
    await expect(row).not_to_contain_text("Manage Team")
    await expect(row).to_contain_text("Never")

    assert await call_api(dashboard_url, token) == 200
    await page.reload()
    await expect(key_row(page, "CRM sync")).to_contain_text(
        re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    )
    await expect(key_row(page, "CRM sync")).not_to_contain_text("Never")
    assert token not in await page.content()

    confirmations: list[str] = []

    async def accept(dialog: Dialog) -> None:
        confirmations.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await key_row(page, "CRM sync").get_by_role("button", name="Revoke CRM sync").click()
    await expect(page.get_by_role("status").filter(has_text="is revoked")).to_be_visible()
    await expect(key_row(page, "CRM sync")).to_contain_text("Revoked")
    await expect(key_row(page, "CRM sync").get_by_role("button")).to_have_count(0)
    assert len(confirmations) == 1
    assert "CRM sync" in confirmations[0]
    assert await call_api(dashboard_url, token) == 401
    assert browser_context.network.blocked == []
    assert browser_context.page_errors == []


async def test_the_chatbot_choices_follow_the_workspace_and_mistakes_are_shown(
    owner_page: Page,
    browser_context: Browsing,
    sessions: async_sessionmaker[AsyncSession],
    demo: DemoSecrets,
) -> None:
    async with session_scope(sessions) as session:
        owner = await session.get(User, 1)
        assert owner is not None
        assert owner.email == demo.email
        other = await workspaces.create_workspace(session, name="Second shop", owner=owner)
        await workspaces.create_bot(session, other.id, name="Second bot")
    page = owner_page
    await open_keys_page(page)

    chatbot = page.get_by_label("Chatbot")
    await page.locator("#key-workspace").select_option(label="Second shop")
    await expect(chatbot.locator("option")).to_have_text(
        [re.compile("^Second bot"), "No chatbot (workspace calls only)"]
    )
    await page.get_by_label("Name").fill("Nothing allowed")
    await page.get_by_role("checkbox", name="Manage Flow").uncheck()
    await page.get_by_role("checkbox", name="Manage Team").uncheck()
    await page.get_by_role("button", name="Create key").click()

    await expect(page.get_by_text("Choose at least one permission.")).to_be_visible()
    await expect(page.get_by_label("Name")).to_have_value("Nothing allowed")
    await expect(page.locator("#key-workspace")).to_have_value(str(other.id))
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(key_row(page, "Nothing allowed")).to_have_count(0)
    assert browser_context.page_errors == []


async def test_an_agent_sees_no_keys_and_cannot_open_the_keys_page(
    browser_context: Browsing,
    dashboard_url: str,
    sessions: async_sessionmaker[AsyncSession],
    demo: DemoSecrets,
) -> None:
    agent = await make_person(sessions, 1, Role.AGENT)
    page = await browser_context.context.new_page()
    await log_in(page, dashboard_url, agent.email, agent.password)

    await page.get_by_label("User menu").click()
    await expect(page.get_by_role("menuitem", name="Account")).to_be_visible()
    await expect(page.get_by_role("menuitem", name="API keys")).to_have_count(0)
    response = await page.goto(f"{dashboard_url}/dashboard/keys")
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Forbidden")
    await expect(page.get_by_text("Demo key")).to_have_count(0)
