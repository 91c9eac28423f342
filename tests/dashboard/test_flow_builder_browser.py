"""Building a flow in a real browser, from an empty canvas to the web chat: a new sub flow gets
a keyword and an order status that start it, a message whose two quick replies branch to two
messages, and a question saved to a user field; a problem is shown on its node and fixed; the
draft is chatted with in the preview, the node at hand highlighted; once published a visitor of
the web chat gets it, and rolling back to the empty first version brings the old behaviour back.

Chromium (Debian's) drives the dashboard served on loopback, signed in as the demo's owner.
"""

from __future__ import annotations

import pytest
from dashboard_browsing import Browsing
from playwright.async_api import Dialog, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope
from konversation.demo import DemoSecrets
from konversation.flows.models import Flow
from konversation.subscribers.models import SubscriberChannel, SubscriberFieldValue

pytestmark = pytest.mark.browser

ASK = "Do you like surprises?"
YES = "Wonderful!"
NO = "No surprises, then."
QUESTION = "What is your favourite colour?"
# A builder's screen, wide enough for the four nodes side by side.
SCREEN = {"width": 1600, "height": 1000}


def _node(page: Page, node_id: str) -> Locator:
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


async def _drop(page: Page, label: str, x: float, y: float) -> None:
    """Drag a node type from the palette onto the canvas, at (x, y) inside it."""
    await page.get_by_role("button", name=label, exact=True).drag_to(
        page.locator(".fe-canvas"), target_position={"x": x, "y": y}
    )


async def _connect(page: Page, source: str, port: str, target: str) -> None:
    handle = _node(page, source).locator(f'.react-flow__handle[data-handleid="{port}"]')
    await handle.drag_to(_node(page, target).locator('.react-flow__handle[data-handleid="in"]'))


async def _select(page: Page, node_id: str) -> None:
    await _node(page, node_id).locator(".fe-node-head").click()


async def _with_a_note(dialog: Dialog) -> None:
    await dialog.accept("First version of the survey")


async def _confirm(dialog: Dialog) -> None:
    await dialog.accept()


async def _say(chat: Page, text: str) -> None:
    await chat.get_by_label("Message").fill(text)
    await chat.get_by_role("button", name="Send").click()


async def _build(page: Page) -> None:
    """The survey, node by node, on the new flow's empty canvas."""
    await page.get_by_role("button", name="+ A subscriber says…").click()
    await page.get_by_role("textbox", name="Keyword").fill("surprise")
    await page.get_by_role("button", name="+ An order moves").click()
    moves = page.get_by_role("group", name="An order of the subscriber moves to")
    await moves.get_by_role("checkbox", name="shipped").check()
    await moves.get_by_role("checkbox", name="paid").uncheck()

    await _drop(page, "Send message", 10, 150)  # n1, the start
    await page.get_by_role("textbox", name="Text", exact=True).fill(ASK)
    replies = page.get_by_role("group", name="Quick replies")
    await replies.get_by_role("button", name="+ Add").click()
    await replies.get_by_role("button", name="+ Add").click()
    await replies.get_by_role("textbox", name="Title").nth(0).fill("Yes")
    await replies.get_by_role("textbox", name="Title").nth(1).fill("No")

    await _drop(page, "Send message", 290, 10)  # n2
    await page.get_by_role("textbox", name="Text", exact=True).fill(YES)
    await _drop(page, "Send message", 290, 290)  # n3
    await page.get_by_role("textbox", name="Text", exact=True).fill(NO)
    await _drop(page, "User input", 570, 10)  # n4
    saved_to = page.get_by_role("combobox", name="Save the reply to")
    field = saved_to.locator("option", has_text="Favourite colour")
    await saved_to.select_option(await field.get_attribute("value"))

    await _connect(page, "n1", "quick_replies.0.next", "n2")
    await _connect(page, "n1", "quick_replies.1.next", "n3")
    await _connect(page, "n2", "next", "n4")
    await expect(page.locator(".react-flow__edge")).to_have_count(3)


async def test_a_flow_built_on_an_empty_canvas_is_previewed_published_and_rolled_back(
    owner_page: Page,
    browser_context: Browsing,
    demo: DemoSecrets,
    dashboard_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    page = owner_page
    await page.set_viewport_size(SCREEN)
    await page.goto(f"{dashboard_url}/dashboard/flows")
    await page.locator("#new-flow-name").fill("Surprise survey")
    await page.get_by_role("button", name="Create and edit").click()
    await expect(page.locator(".fe-toolbar")).to_contain_text("Surprise survey")
    await expect(page.locator(".react-flow__node")).to_have_count(0)

    await _build(page)

    await _select(page, "n4")
    question = page.get_by_role("textbox", name="Question", exact=True)
    await question.fill("")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.locator(".fe-has-problems")).to_have_count(1)
    await expect(_node(page, "n4").locator(".fe-node-problems")).to_be_visible()
    await expect(page.get_by_role("button", name="Publish")).to_be_disabled()
    await question.fill(QUESTION)
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.locator(".fe-has-problems")).to_have_count(0)

    await page.get_by_role("button", name="Preview").click()
    preview = page.locator(".fe-preview")
    await expect(preview.get_by_role("listitem").filter(has_text=ASK)).to_be_visible()
    await expect(_node(page, "n1").locator(".fe-node")).to_have_class(
        "fe-node fe-node-send_message fe-active"
    )
    await preview.locator(".fe-preview-replies").get_by_role("button", name="Yes").click()
    await expect(preview.get_by_text(QUESTION)).to_be_visible()
    await expect(preview.get_by_text(YES)).to_be_visible()
    await expect(page.locator(".fe-active")).to_have_count(1)
    await expect(_node(page, "n4").locator(".fe-active")).to_have_count(1)
    await expect(_node(page, "n2").locator(".fe-visited")).to_have_count(1)
    await preview.get_by_role("textbox", name="Message to the draft").fill("Teal")
    await preview.get_by_role("button", name="Send").click()
    await expect(preview.get_by_text("Teal", exact=True)).to_be_visible()
    async with session_scope(sessions) as session:
        kept = await session.scalars(
            select(SubscriberFieldValue.value)
            .join(
                SubscriberChannel,
                SubscriberChannel.subscriber_id == SubscriberFieldValue.subscriber_id,
            )
            .where(SubscriberChannel.user_id.like("preview-%"))
        )
        assert list(kept) == ["Teal"]

    chat = await browser_context.context.new_page()
    await chat.goto(f"{dashboard_url}/webchat/{demo.web_chat_uid}")
    await _say(chat, "surprise")
    await expect(chat.get_by_text("Welcome to the demo bot.")).to_have_count(1)  # a draft only

    page.once("dialog", _with_a_note)
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Published as version 2.")
    async with session_scope(sessions) as session:
        survey = await session.scalar(select(Flow).where(Flow.name == "Surprise survey"))
        assert survey is not None
        assert survey.definition["triggers"] == [
            {"keywords": ["surprise"], "match": "exact"},
            {"order_status": ["shipped"]},
        ]
    await _say(chat, "surprise")
    await expect(chat.get_by_text(ASK)).to_be_visible()
    await chat.locator(".kv-quick-reply").filter(has_text="No").click()
    await expect(chat.get_by_text(NO)).to_be_visible()

    await page.get_by_role("button", name="Close preview").click()
    await page.get_by_role("button", name="Versions").click()
    page.once("dialog", _confirm)
    await (
        page.locator(".fe-versions li")
        .filter(has_text="v1")
        .get_by_role("button", name="Roll back")
        .click()
    )
    await expect(page.get_by_role("status")).to_contain_text(
        "Version 1 is published again as version 3."
    )
    await expect(page.locator(".react-flow__node")).to_have_count(0)
    await _say(chat, "surprise")
    await expect(chat.get_by_text("Welcome to the demo bot.")).to_have_count(2)
    assert browser_context.network.blocked == []
    assert browser_context.page_errors == []
