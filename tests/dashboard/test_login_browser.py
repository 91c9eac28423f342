"""Logging in and out of the dashboard in a real browser, and the lockout after failures."""

from __future__ import annotations

import pytest
from dashboard_browsing import Browsing, log_in
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope
from konversation.demo import DemoSecrets
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import User

pytestmark = pytest.mark.browser


async def test_the_demo_owner_logs_in_with_the_printed_password_and_out_again(
    browser_context: Browsing, dashboard_url: str, demo: DemoSecrets
) -> None:
    page = await browser_context.context.new_page()
    await page.goto(f"{dashboard_url}/")
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/login?next=/dashboard")

    await log_in(page, dashboard_url, demo.email, demo.password)
    await expect(page).to_have_url(f"{dashboard_url}/dashboard")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Demo Owner")
    await expect(page.get_by_label("Workspace")).to_have_value(str(1))

    await _open_user_menu(page)
    await page.get_by_role("menuitem", name="Log out").click()
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/login")
    await expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    await page.goto(f"{dashboard_url}/dashboard")
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/login?next=/dashboard")
    assert browser_context.network.blocked == []
    assert browser_context.page_errors == []


async def _open_user_menu(page: Page) -> None:
    await page.get_by_label("User menu").click()


async def _submit_login(page: Page, email: str, password: str) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def test_a_wrong_password_is_refused_and_five_lock_the_account(
    browser_context: Browsing, dashboard_url: str, demo: DemoSecrets
) -> None:
    page = await browser_context.context.new_page()
    await page.goto(f"{dashboard_url}/dashboard/login")
    alert = page.get_by_role("alert")

    await _submit_login(page, demo.email, "not the password")
    await expect(alert).to_have_text("The email or password is incorrect.")
    await expect(page.get_by_label("Email")).to_have_value(demo.email)
    await expect(page.get_by_label("Password")).to_have_value("")
    await expect(page.get_by_role("navigation", name="Sections")).to_have_count(0)
    # An address nobody has gets the very same answer.
    await _submit_login(page, "nobody@example.com", "not the password")
    await expect(alert).to_have_text("The email or password is incorrect.")

    for attempt in range(4):
        await _submit_login(page, demo.email.upper(), f"wrong {attempt}")
        await expect(alert).to_have_text("The email or password is incorrect.")
    await _submit_login(page, demo.email, demo.password)
    await expect(alert).to_have_text(
        "Too many failed attempts for this email. Try again in 15 minutes."
    )
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/login")
    assert browser_context.page_errors == []


async def test_after_logging_in_the_page_asked_for_opens(
    browser_context: Browsing, dashboard_url: str, demo: DemoSecrets
) -> None:
    page = await browser_context.context.new_page()
    await page.goto(f"{dashboard_url}/dashboard/account")
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/login?next=/dashboard/account")
    await _submit_login(page, demo.email, demo.password)
    await expect(page).to_have_url(f"{dashboard_url}/dashboard/account")
    await expect(page.get_by_label("Email", exact=True)).to_have_value(demo.email)


async def test_the_switcher_changes_the_workspace_the_pages_show(
    owner_page: Page,
    browser_context: Browsing,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(sessions) as session:
        owner = await session.get(User, 1)
        assert owner is not None
        second = await workspaces.create_workspace(session, name="Second shop", owner=owner)
        first_bot = await workspaces.create_bot(session, second.id, name="Second bot")
        await workspaces.create_bot(session, second.id, name="Third bot")
    page = owner_page
    await page.reload()

    # Each choice is stored at once and the page reloads to show it.
    async with page.expect_navigation():
        await page.get_by_label("Workspace").select_option(label="Second shop")
    await expect(page.get_by_text("Workspace Second shop, where you are owner.")).to_be_visible()
    await expect(page.get_by_label("Bot", exact=True)).to_have_value(str(first_bot.id))
    async with page.expect_navigation():
        await page.get_by_label("Bot", exact=True).select_option(label="Third bot")
    await page.reload()
    await expect(page.get_by_label("Bot", exact=True).locator("option:checked")).to_have_text(
        "Third bot"
    )
    assert browser_context.page_errors == []
