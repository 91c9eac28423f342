"""Take the README's screenshots of the dashboard and the web chat from a fresh demo.

    .venv/bin/python scripts/screenshots.py [--output docs/screenshots]

Runs `konversation serve` on loopback against a temporary SQLite database holding the demo,
chats with the demo bot so there is a subscriber and an order, logs in to the dashboard with
Debian's chromium (`/usr/bin/chromium`, as the browser tests use) and saves one PNG per page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from playwright.async_api import Page, ViewportSize, async_playwright

from konversation.db import make_engine, make_session_factory, session_scope
from konversation.demo import DemoSecrets, create_demo
from konversation.schema import upgrade
from konversation.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Each page by name, its path, and for pages drawn by a script what shows they are drawn.
PAGES: tuple[tuple[str, str, str | None], ...] = (
    ("dashboard-home", "/dashboard", None),
    ("dashboard-keys", "/dashboard/keys", None),
    ("dashboard-bots", "/dashboard/bots", None),
    ("dashboard-flows", "/dashboard/flows", None),
    ("dashboard-flow-diagram", "/dashboard/flows/main", None),
    ("dashboard-flow-editor", "/dashboard/flows/main/edit", ".fe-canvas .react-flow__node"),
    ("dashboard-subscribers", "/dashboard/subscribers", None),
    ("dashboard-orders", "/dashboard/shop/orders", None),
)


async def prepare(settings: Settings) -> DemoSecrets:
    engine = make_engine(settings.database_url)
    await upgrade(engine)
    async with session_scope(make_session_factory(engine)) as session:
        secrets = await create_demo(session, server_secret=settings.server_secret())
    await engine.dispose()
    return secrets


async def chat(page: Page, base_url: str, uid: str, output: Path) -> None:
    """Greet the demo bot and buy a sticker pack, so the dashboard has something to show."""
    await page.goto(f"{base_url}/webchat/{uid}")
    await page.get_by_label("Message").fill("hi")
    await page.get_by_role("button", name="Send").click()
    await page.get_by_role("button", name="Shop").click()
    stickers = page.locator(".kv-card").filter(has_text="Sticker pack")
    await stickers.get_by_role("button", name="Add to cart").click()
    await page.get_by_role("button", name="Check out").click()
    await page.get_by_text("is placed").wait_for()
    await page.screenshot(path=output / "webchat.png")


async def preview(page: Page, base_url: str, output: Path) -> None:
    """The editor's preview, one question into the demo's main flow."""
    await page.goto(f"{base_url}/dashboard/flows/main/edit")
    await page.get_by_role("button", name="Preview").click()
    replies = page.locator(".fe-preview-replies")
    await replies.get_by_role("button", name="Ask me something").click()
    await page.locator(".fe-preview").get_by_text("What is your favourite colour?").wait_for()
    await page.screenshot(path=output / "dashboard-flow-preview.png")
    print(f"saved {output / 'dashboard-flow-preview'}.png")


async def log_in(page: Page, base_url: str, secrets: DemoSecrets) -> None:
    await page.goto(f"{base_url}/dashboard/login")
    await page.get_by_label("Email").fill(secrets.email)
    await page.get_by_label("Password").fill(secrets.password)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("navigation", name="Sections").wait_for()


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """`konversation serve` in its own process, as a user starts it; yields its base URL."""
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_FILE": str(settings.secret_file),
        "KONVERSATION_PORT": str(settings.port),
    }
    command = [str(Path(sys.executable).parent / "konversation"), "serve", "--no-demo"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base_url = settings.base_url
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base_url}/dashboard/login").status_code == 200:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/screenshots.db",
            secret_file=Path(folder) / "secret.key",
            port=free_port(),
        )
        secrets = await prepare(settings)
        with serving(settings) as base_url:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                page = await (await browser.new_context(viewport=VIEWPORT)).new_page()
                await chat(page, base_url, secrets.web_chat_uid, output)
                await log_in(page, base_url, secrets)
                for name, path, drawn in PAGES:
                    await page.goto(base_url + path)
                    if drawn is not None:
                        await page.locator(drawn).first.wait_for()
                    await page.screenshot(path=output / f"{name}.png", full_page=False)
                    print(f"saved {output / name}.png")
                await preview(page, base_url, output)
                await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("docs/screenshots"))
    folder = parser.parse_args().output
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
