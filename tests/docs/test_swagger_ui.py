"""Swagger UI at /api works offline, keeps its authorization and can call the API.

Drives Debian's chromium through Playwright against a real server. The server and the
demo bot's API key come from the ``live_server`` and ``live_api_key`` fixtures.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Route,
    async_playwright,
    expect,
)

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
OPERATION_PATH = "/flow/tags"
LOCKED = re.compile(r"(^|\s)locked(\s|$)")
UNLOCKED = re.compile(r"(^|\s)unlocked(\s|$)")
# The cell may add "Undocumented" after a code the document does not list.
STATUS_200 = re.compile(r"^\s*200\b")

pytestmark = pytest.mark.browser


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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


class OfflineGuard:
    """Lets through only requests to the server under test; records everything else."""

    def __init__(self, base_url: str) -> None:
        self.origin = _origin(base_url)
        self.blocked: list[str] = []

    async def handle(self, route: Route, request: Request) -> None:
        if _origin(request.url) == self.origin:
            await route.continue_()
        else:
            self.blocked.append(request.url)
            await route.abort("blockedbyclient")


@pytest.fixture
async def guarded(
    chromium_browser: Browser, live_server: str
) -> AsyncIterator[tuple[Page, OfflineGuard]]:
    guard = OfflineGuard(live_server)
    context: BrowserContext = await chromium_browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    await context.route("**/*", guard.handle)
    page = await context.new_page()
    try:
        yield page, guard
    finally:
        await context.close()


async def test_swagger_ui_authorizes_and_tries_an_operation(
    guarded: tuple[Page, OfflineGuard], live_server: str, live_api_key: str
) -> None:
    page, guard = guarded
    base = live_server.rstrip("/")
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))

    with_slash = await page.request.get(f"{base}/api/")
    assert with_slash.status == 200
    assert "/static/swagger/swagger-ui-bundle.js" in await with_slash.text()

    response = await page.goto(f"{base}/api")
    assert response is not None
    assert response.status == 200
    await page.wait_for_load_state("load")
    assert guard.blocked == [], f"outside requests were attempted: {guard.blocked}"
    await expect(page).to_have_title("Konversation Connect API", timeout=TIMEOUT_MS)

    operation_path = page.locator(f'.opblock-summary-path[data-path="{OPERATION_PATH}"]')
    authorize = page.locator(".auth-wrapper button.btn.authorize")
    # Swagger UI draws a long list only as it scrolls into view: filter down to the group.
    search = page.locator(".operation-filter-input")
    await search.fill("Flow Tag")
    await expect(operation_path.first).to_be_visible(timeout=TIMEOUT_MS)
    await expect(authorize).to_have_class(UNLOCKED, timeout=TIMEOUT_MS)

    # Authorize with the bearer key, then close the dialog.
    await authorize.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    await expect(dialog).to_be_visible(timeout=TIMEOUT_MS)
    await dialog.locator("input#auth-bearer-value").fill(live_api_key)
    await dialog.get_by_role("button", name="Apply credentials").click()
    # Once applied, the dialog offers "Logout" (aria-label "Remove authorization").
    await expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await dialog.locator("button.modal-btn.auth.btn-done").click()
    await expect(dialog).to_have_count(0, timeout=TIMEOUT_MS)
    await expect(authorize).to_have_class(LOCKED, timeout=TIMEOUT_MS)

    # persistAuthorization: a reload keeps the key.
    await page.reload()
    await search.fill("Flow Tag")
    await expect(operation_path.first).to_be_visible(timeout=TIMEOUT_MS)
    await expect(authorize).to_have_class(LOCKED, timeout=TIMEOUT_MS)
    stored = await page.evaluate("() => window.localStorage.getItem('authorized')")
    assert isinstance(stored, str)
    assert live_api_key in json.dumps(json.loads(stored))

    # Expand GET /flow/tags, try it out, execute.
    operation = page.locator(".opblock.opblock-get").filter(has=operation_path)
    await expect(operation).to_have_count(1, timeout=TIMEOUT_MS)
    await operation.locator(".opblock-summary-control").click()
    await operation.locator(".btn.try-out__btn").click()
    await operation.locator(".btn.execute").click()

    live_status = operation.locator(".live-responses-table .response .response-col_status")
    await expect(live_status).to_have_text(STATUS_200, timeout=TIMEOUT_MS)
    curl = operation.locator(".curl-command .curl").first
    await expect(curl).to_contain_text("curl -X 'GET'", timeout=TIMEOUT_MS)
    await expect(curl).to_contain_text(f"{base}/api{OPERATION_PATH}", timeout=TIMEOUT_MS)
    await expect(curl).to_contain_text(f"Authorization: Bearer {live_api_key}", timeout=TIMEOUT_MS)

    assert guard.blocked == [], f"outside requests were attempted: {guard.blocked}"
    assert page_errors == [], f"uncaught errors on the page: {page_errors}"
