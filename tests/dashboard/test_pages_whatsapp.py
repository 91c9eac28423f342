"""The bot's channels page connects WhatsApp with the account's ids, token and app secret
(against the fake Cloud API), shows the webhook URL and verify token, and disconnects it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dashboard_browsing import DashboardClient
from fastapi import FastAPI
from pages_support import (  # noqa: F401
    flashes,
    owner_fixture,
    post_and_follow,
    signed_in,
    text_of,
)

from fake_whatsapp import (  # noqa: F401
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    WABA_ID,
    FakeWhatsApp,
    fake_whatsapp_fixture,
    fake_whatsapp_server_fixture,
)
from konversation.app import create_app
from konversation.demo import DemoSecrets
from konversation.settings import Settings

FORM = {
    "phone_number_id": PHONE_NUMBER_ID,
    "waba_id": WABA_ID,
    "token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": "let-me-in",
}


@pytest.fixture
async def owner_on_meta(
    settings: Settings, fake_whatsapp: FakeWhatsApp, demo: DemoSecrets
) -> AsyncIterator[DashboardClient]:
    app: FastAPI = create_app(settings.model_copy(update={"graph_api_base": fake_whatsapp.url}))
    client = await signed_in(app, demo.email, demo.password, base_url="https://bots.example.com")
    try:
        yield client
    finally:
        await client.aclose()
        await app.state.runtime.http.aclose()
        await app.state.engine.dispose()


async def test_whatsapp_is_connected_shown_and_disconnected(
    owner_on_meta: DashboardClient, demo: DemoSecrets, fake_whatsapp: FakeWhatsApp
) -> None:
    here = f"/dashboard/bots/{demo.bot_id}"
    page = await post_and_follow(owner_on_meta, f"{here}/whatsapp", FORM)
    assert flashes(page) == [("success", "WhatsApp connected.")]
    text = text_of(page)
    assert "Connected as +1 555-010-0199" in text
    assert "https://bots.example.com/webhooks/whatsapp/" in text
    assert "let-me-in" in text
    assert TOKEN not in page.text
    assert APP_SECRET not in page.text

    page = await post_and_follow(owner_on_meta, f"{here}/channels/whatsapp/disconnect", {})
    assert flashes(page) == [("success", "WhatsApp disconnected.")]
    assert "Connect WhatsApp" in text_of(page)


async def test_what_meta_refuses_is_shown_on_the_form(
    owner_on_meta: DashboardClient, demo: DemoSecrets
) -> None:
    page = await owner_on_meta.post(
        f"/dashboard/bots/{demo.bot_id}/whatsapp", FORM | {"token": "wrong"}
    )
    assert page.status_code == 422
    assert "Invalid OAuth access token." in text_of(page)
