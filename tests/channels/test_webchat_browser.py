"""The web chat page in a real browser: talking to the bot, the history after a reload, the
event-stream fallback, rich messages and the widget on another page.

Drives Debian's chromium through Playwright against the app served on loopback, with its
background deliveries running as in production. Requests anywhere else are refused (pictures
on example.com get a stand-in), so the page is shown to need nothing from outside.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Request,
    Route,
    async_playwright,
    expect,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_webchat_api import GREETING, HOURS, make_chat_bot

from builders import Tenant
from konversation.app import create_app
from konversation.db import session_scope
from konversation.demo import create_demo
from konversation.settings import Settings
from loopback import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
PICTURE_HOST = "example.com"
# A 1x1 transparent PNG, standing in for the pictures the test flow shows.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

# Stands in for a network where WebSocket connections never open (a proxy that drops them).
NO_WEBSOCKETS = """
window.WebSocket = function FailingSocket() {
  var socket = this;
  socket.readyState = 0;
  setTimeout(function () {
    socket.readyState = 3;
    if (socket.onclose) { socket.onclose({ code: 1006 }); }
  }, 10);
};
window.WebSocket.OPEN = 1;
"""

pytestmark = pytest.mark.browser


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def chat_server(settings: Settings, engine: object) -> Iterator[str]:
    """Per test: a live server runs background jobs, which must not outlive the test's data."""
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
async def uid(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> str:
    """The web chat of a bot that greets with a link and two quick replies (see
    `test_webchat_api.chat_flow`)."""
    return (await make_chat_bot(sessions, tenant, name="Help bot")).uid


@pytest.fixture
async def chromium_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def shop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Another site, which pastes the widget script named by its `?widget=` query."""
    assert scope["type"] == "http"
    widget = html.escape(parse_qs(scope["query_string"].decode()).get("widget", [""])[0])
    page = f'<!doctype html><title>Shop</title><h1>A shop</h1><script src="{widget}" async>'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/html; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": f"{page}</script>".encode()})


@pytest.fixture(scope="session")
def shop_server() -> Iterator[str]:
    with serving(shop) as url:
        yield url


class Network:
    """Lets through requests to the servers under test, stands in for pictures on example.com,
    and refuses and records everything else."""

    def __init__(self, base_url: str, *others: str) -> None:
        self.origins = {_origin(url) for url in (base_url, *others)}
        self.blocked: list[str] = []
        self.paths: list[str] = []
        # WebSockets pass no route: pages report them here (see `open_chat`).
        self.sockets: list[str] = []

    async def handle(self, route: Route, request: Request) -> None:
        if _origin(request.url) in self.origins:
            self.paths.append(urlsplit(request.url).path)
            await route.continue_()
        elif urlsplit(request.url).hostname == PICTURE_HOST:
            await route.fulfill(status=200, content_type="image/png", body=PIXEL)
        else:
            self.blocked.append(request.url)
            await route.abort("blockedbyclient")


@pytest.fixture
async def browsing(
    chromium_browser: Browser, chat_server: str, shop_server: str
) -> AsyncIterator[tuple[BrowserContext, Network]]:
    network = Network(chat_server, shop_server)
    context = await chromium_browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    await context.route("**/*", network.handle)
    try:
        yield context, network
    finally:
        await context.close()


async def open_chat(context: BrowserContext, network: Network, url: str) -> tuple[Page, list[str]]:
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("websocket", lambda socket: network.sockets.append(urlsplit(socket.url).path))
    response = await page.goto(url)
    assert response is not None
    assert response.status == 200
    return page, errors


def shown(page: Page, direction: str) -> Locator:
    return page.locator(f'.kv-messages > li[data-direction="{direction}"]')


async def type_message(page: Page, text: str) -> None:
    await page.get_by_label("Message").fill(text)
    await page.get_by_role("button", name="Send").click()


async def test_a_visitor_talks_to_the_bot_and_finds_the_talk_again_after_a_reload(
    browsing: tuple[BrowserContext, Network], chat_server: str, uid: str
) -> None:
    context, network = browsing
    page, errors = await open_chat(context, network, f"{chat_server}/webchat/{uid}")
    await expect(page).to_have_title("Help bot")
    messages = page.locator(".kv-messages > li")
    quick_replies = page.get_by_role("group", name="Quick replies").get_by_role("button")

    await type_message(page, "hi")
    await expect(messages).to_have_text(["hi", re.compile(GREETING)])
    await expect(quick_replies).to_have_text(["Opening hours", "Plans"])
    await expect(page.get_by_label("Message")).to_have_value("")

    await quick_replies.filter(has_text="Opening hours").click()
    everything = ["hi", re.compile(GREETING), "Opening hours", HOURS]
    await expect(messages).to_have_text(everything)
    await expect(quick_replies).to_have_count(0)

    visitor = await page.evaluate(f"localStorage.getItem('konversation.webchat.{uid}')")
    await page.reload()
    await expect(messages).to_have_text(everything)
    await expect(shown(page, "in")).to_have_text(["hi", "Opening hours"])
    await expect(quick_replies).to_have_count(0)
    assert await page.evaluate(f"localStorage.getItem('konversation.webchat.{uid}')") == (visitor)

    assert network.sockets == [f"/webchat/{uid}/ws"] * 2
    assert f"/webchat/{uid}/events" not in network.paths
    assert network.blocked == []
    assert errors == []


async def test_without_websockets_the_page_uses_the_event_stream(
    browsing: tuple[BrowserContext, Network], chat_server: str, uid: str
) -> None:
    context, network = browsing
    await context.add_init_script(NO_WEBSOCKETS)
    page, errors = await open_chat(context, network, f"{chat_server}/webchat/{uid}")
    messages = page.locator(".kv-messages > li")

    await expect(page.locator(".kv-status")).to_have_text("", timeout=TIMEOUT_MS)
    await type_message(page, "hello")
    await expect(messages).to_have_text(["hello", re.compile(GREETING)])
    await page.get_by_role("button", name="Opening hours").click()
    await expect(messages).to_have_text(["hello", re.compile(GREETING), "Opening hours", HOURS])
    await page.reload()
    await expect(messages).to_have_text(["hello", re.compile(GREETING), "Opening hours", HOURS])

    assert f"/webchat/{uid}/events" in network.paths
    assert f"/webchat/{uid}/messages" in network.paths
    assert network.sockets == []
    assert network.blocked == []
    assert errors == []


async def test_buttons_cards_and_pictures_are_shown_and_work(
    browsing: tuple[BrowserContext, Network], chat_server: str, uid: str
) -> None:
    context, network = browsing
    page, errors = await open_chat(context, network, f"{chat_server}/webchat/{uid}")

    await type_message(page, "<b>hi</b>")
    await expect(page.locator(".kv-messages > li").first).to_have_text("<b>hi</b>")
    greeting = page.locator(".kv-messages > li").nth(1)
    await expect(greeting).to_contain_text(GREETING)
    site = greeting.get_by_role("link", name="Our site")
    await expect(site).to_have_attribute("href", "https://example.com/")
    await expect(site).to_have_attribute("target", "_blank")

    await page.get_by_role("button", name="Plans").click()
    card = page.locator(".kv-card")
    await expect(card.locator(".kv-card-title")).to_have_text("Basic")
    await expect(card.locator(".kv-card-subtitle")).to_have_text("10 a month")
    await expect(card.get_by_role("img", name="Basic")).to_have_attribute(
        "src", "https://example.com/basic.png"
    )
    await expect(page.get_by_role("img", name="Map")).to_be_visible()

    await card.get_by_role("button", name="Buy").click()
    await expect(page.locator(".kv-messages > li").last).to_have_text(HOURS)
    assert await page.locator(".kv-messages b").count() == 0
    assert network.blocked == []
    assert errors == []


async def test_the_widget_opens_the_chat_on_another_site(
    browsing: tuple[BrowserContext, Network], chat_server: str, shop_server: str, uid: str
) -> None:
    context, network = browsing
    widget = quote(f"{chat_server}/webchat/{uid}/widget.js", safe="")
    page, errors = await open_chat(context, network, f"{shop_server}/?widget={widget}")
    chat = page.frame_locator('iframe[title="Chat"]')
    await expect(page.locator('iframe[title="Chat"]')).to_have_count(0)

    await page.get_by_role("button", name="Open chat").click()
    close = page.get_by_role("button", name="Close chat")
    await expect(close).to_have_attribute("aria-expanded", "true")
    await chat.get_by_label("Message").fill("hi")
    await chat.get_by_role("button", name="Send").click()
    await expect(chat.locator(".kv-messages > li")).to_have_text(["hi", re.compile(GREETING)])

    await close.click()
    await expect(page.locator('iframe[title="Chat"]')).to_be_hidden()
    await page.get_by_role("button", name="Open chat").click()
    await expect(chat.locator(".kv-messages > li")).to_have_text(["hi", re.compile(GREETING)])
    assert network.blocked == []
    assert errors == []


@pytest.fixture
async def demo_uid(sessions: async_sessionmaker[AsyncSession], server_secret: bytes) -> str:
    """The web chat of the demo bot a first start creates."""
    async with session_scope(sessions) as session:
        return (await create_demo(session, server_secret=server_secret)).web_chat_uid


async def test_the_demo_bot_greets_asks_and_answers_keywords(
    browsing: tuple[BrowserContext, Network], chat_server: str, demo_uid: str
) -> None:
    context, network = browsing
    page, errors = await open_chat(context, network, f"{chat_server}/webchat/{demo_uid}")
    answers = shown(page, "out")
    quick_replies = page.get_by_role("group", name="Quick replies").get_by_role("button")

    await type_message(page, "hi")
    await expect(answers).to_have_text(["Hi there! Welcome to the demo bot."])
    await expect(quick_replies).to_have_text(
        ["Get started", "Opening hours", "Ask me something", "Shop"]
    )
    await quick_replies.filter(has_text="Ask me something").click()
    await expect(answers.last).to_have_text("What is your favourite colour?")
    await type_message(page, "Teal")
    await expect(answers.last).to_have_text("Teal is a fine colour!")
    await type_message(page, "hours")
    await expect(answers.last).to_have_text("We are open Monday to Friday, 9:00 to 17:00.")

    assert network.blocked == []
    assert errors == []


async def test_a_visitor_buys_from_the_demo_shop_in_the_web_chat(
    browsing: tuple[BrowserContext, Network], chat_server: str, demo_uid: str
) -> None:
    context, network = browsing
    page, errors = await open_chat(context, network, f"{chat_server}/webchat/{demo_uid}")
    answers = shown(page, "out")

    await type_message(page, "shop")
    stickers = page.locator(".kv-card").filter(has_text="Sticker pack")
    await expect(stickers.locator(".kv-card-subtitle")).to_have_text("3.50 USD")
    await stickers.get_by_role("button", name="Add to cart").click()
    await expect(answers.last).to_contain_text("Total: 3.50 USD")
    await page.get_by_role("button", name="Check out").click()
    await expect(answers.last).to_have_text(
        "Thank you! Order #1 (3.50 USD) is placed: pay when you collect it."
    )

    assert network.blocked == []
    assert errors == []
