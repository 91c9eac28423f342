"""The flow editor in a real browser: the demo's main flow opens on the canvas, a message added
from the palette and emptied is refused with the problem on its node, and once written it is
saved as a draft that the live bot does not run until it is published; a changed greeting is
tried in the preview, reaches the web chat once published, and rolling back brings the old one
back.

Chromium (Debian's) drives the dashboard served on loopback, signed in as the demo's owner.
"""

from __future__ import annotations

import pytest
from dashboard_browsing import Browsing
from playwright.async_api import Dialog, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope
from konversation.demo import DemoSecrets
from konversation.flows.models import MAIN_FLOW_NUMBER, Flow, FlowVersion

pytestmark = pytest.mark.browser

ADDED = "Thanks for stopping by!"


async def _main_flow(sessions: async_sessionmaker[AsyncSession], bot_id: int) -> Flow:
    async with session_scope(sessions) as session:
        return await session.scalar(
            select(Flow).where(Flow.bot_id == bot_id, Flow.number == MAIN_FLOW_NUMBER)
        ) or pytest.fail("the demo has a main flow")


def _texts(flow: Flow) -> list[str]:
    return [
        message.get("text", "")
        for node in flow.definition["nodes"]
        for message in node.get("messages", [])
    ]


async def _with_a_note(dialog: Dialog) -> None:
    await dialog.accept("Thank visitors")


async def test_a_message_is_added_checked_saved_and_published_from_the_canvas(
    owner_page: Page,
    browser_context: Browsing,
    demo: DemoSecrets,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    page = owner_page
    await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Flows").click()
    await page.get_by_role("link", name="Edit").first.click()

    canvas = page.locator(".fe-canvas")
    await expect(canvas.get_by_text("Greeting", exact=True)).to_be_visible()
    await expect(canvas.get_by_text("Favourite colour", exact=True)).to_be_visible()

    await page.get_by_role("button", name="Send message", exact=True).click()
    await canvas.get_by_text("Hello {{first_name}}!").click()
    text = page.get_by_role("textbox", name="Text", exact=True)
    await text.fill("")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.locator(".fe-has-problems")).to_have_count(1)
    await expect(page.get_by_role("button", name="Publish")).to_be_disabled()

    await text.fill(ADDED)
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.locator(".fe-has-problems")).to_have_count(0)
    await expect(page.locator(".fe-status")).to_contain_text("saved")
    assert ADDED not in _texts(await _main_flow(sessions, demo.bot_id))  # a draft only

    page.once("dialog", _with_a_note)
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Published as version 2.")
    await expect(page.locator(".fe-status")).to_contain_text("published v2")
    flow = await _main_flow(sessions, demo.bot_id)
    assert ADDED in _texts(flow)
    async with session_scope(sessions) as session:
        latest = await session.scalar(
            select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.number == 2)
        )
    assert latest is not None
    assert (latest.note, latest.published_by) == ("Thank visitors", "Demo Owner")
    assert browser_context.network.blocked == []
    assert browser_context.page_errors == []


async def _confirm(dialog: Dialog) -> None:
    await dialog.accept()


async def _say_hi(chat: Page) -> None:
    await chat.get_by_label("Message").fill("hi")
    await chat.get_by_role("button", name="Send").click()


async def test_a_published_greeting_reaches_the_web_chat_and_a_rollback_brings_the_old_back(
    owner_page: Page, browser_context: Browsing, demo: DemoSecrets, dashboard_url: str
) -> None:
    page = owner_page
    await page.goto(f"{dashboard_url}/dashboard/flows/main/edit")
    canvas = page.locator(".fe-canvas")
    await canvas.get_by_text("Hi {{first_name|there}}! Welcome to the demo bot.").click()
    await page.get_by_role("textbox", name="Text", exact=True).fill("Hello from version two!")
    await page.get_by_role("button", name="Preview").click()
    preview = page.locator(".fe-preview")
    await expect(preview.get_by_text("Hello from version two!")).to_be_visible()
    await expect(page.locator(".fe-active")).to_contain_text("Greeting")
    await preview.get_by_role("button", name="Opening hours").click()
    hours = preview.get_by_text("We are open Monday to Friday, 9:00 to 17:00.")
    await expect(hours).to_be_visible()
    page.once("dialog", _with_a_note)
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Published as version 2.")

    chat = await browser_context.context.new_page()
    await chat.goto(f"{dashboard_url}/webchat/{demo.web_chat_uid}")
    await _say_hi(chat)
    await expect(chat.get_by_text("Hello from version two!")).to_be_visible()

    await page.get_by_role("button", name="Versions").click()
    first = page.locator(".fe-versions li").filter(has_text="v1")
    page.once("dialog", _confirm)
    await first.get_by_role("button", name="Roll back").click()
    await expect(page.get_by_role("status")).to_contain_text(
        "Version 1 is published again as version 3."
    )

    await _say_hi(chat)
    await expect(chat.get_by_text("Welcome to the demo bot.")).to_have_count(1)
    assert browser_context.network.blocked == []
    assert browser_context.page_errors == []
