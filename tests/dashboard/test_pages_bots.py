"""The bots and channels pages: the web chat's page and snippet, a Telegram bot connected by its
token (against a fake Bot API), the API channel's URLs and its secret shown once."""

from __future__ import annotations

import re
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
    workspace_of,
)
from sqlalchemy.ext.asyncio import AsyncSession

from builders import make_bot
from fake_telegram import (  # noqa: F401
    FakeTelegram,
    fake_telegram_fixture,
    fake_telegram_server_fixture,
)
from konversation.app import create_app
from konversation.channels.models import ChannelType
from konversation.channels.service import get_channel
from konversation.demo import DemoSecrets
from konversation.settings import Settings

TOKEN = "123456789:AAH-test-token_of-the-bot"
SECRET_INPUT = re.compile(r'id="api-secret" type="text" readonly value="([^"]+)"')


async def test_the_list_shows_each_bot_with_its_channels(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    page = await owner.http.get("/dashboard/bots")
    assert page.status_code == 200
    assert f"Demo bot f{demo.bot_id} Web chat Channels" in text_of(page)
    assert f'href="/dashboard/bots/{demo.bot_id}"' in page.text


async def test_the_web_chat_page_and_snippet_are_shown(
    owner: DashboardClient, demo: DemoSecrets
) -> None:
    page = await owner.http.get(f"/dashboard/bots/{demo.bot_id}")
    assert page.status_code == 200
    chat = f"http://testserver/webchat/{demo.web_chat_uid}"
    assert f'<a href="{chat}"' in page.text
    snippet = f'<script src="{chat}/widget.js" async></script>'
    assert snippet.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in page.text
    assert 'data-copy-target="#snippet-' in page.text


async def test_bots_of_other_workspaces_are_not_found(owner: DashboardClient) -> None:
    assert (await owner.http.get("/dashboard/bots/999")).status_code == 404
    assert (
        await owner.post("/dashboard/bots/999/api", {"webhook_url": "https://x.example"})
    ).status_code == 404


async def test_the_api_channel_shows_its_secret_once(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    here = f"/dashboard/bots/{demo.bot_id}"
    page = await owner.post(f"{here}/api", {"webhook_url": "https://crm.example.com/hook"})
    assert page.status_code == 200
    secret = SECRET_INPUT.search(page.text)
    assert secret is not None
    channel = await get_channel(session, demo.bot_id, ChannelType.API)
    assert channel is not None
    assert secret.group(1) == channel.secret
    assert f"http://testserver/webhooks/api/{channel.uid}" in text_of(page)
    assert "https://crm.example.com/hook" in text_of(page)

    again = await owner.http.get(here)
    assert channel.secret not in again.text
    assert f"http://testserver/webhooks/api/{channel.uid}" in text_of(again)

    rotated = await owner.post(
        f"{here}/api", {"webhook_url": "https://crm.example.com/hook", "rotate_secret": "true"}
    )
    new_secret = SECRET_INPUT.search(rotated.text)
    assert new_secret is not None
    assert new_secret.group(1) != channel.secret


async def test_a_bad_webhook_url_is_refused_on_the_form(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    page = await owner.post(f"/dashboard/bots/{demo.bot_id}/api", {"webhook_url": "ftp://x"})
    assert page.status_code == 422
    assert "The webhook URL must be an http or https URL." in text_of(page)
    assert SECRET_INPUT.search(page.text) is None
    assert await get_channel(session, demo.bot_id, ChannelType.API) is None


async def test_the_api_channel_is_disconnected(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    here = f"/dashboard/bots/{demo.bot_id}"
    await owner.post(f"{here}/api", {"webhook_url": "https://crm.example.com/hook"})
    page = await post_and_follow(owner, f"{here}/channels/apichat/disconnect", {})
    assert flashes(page) == [("success", "API channel disconnected.")]
    assert "Connect the API channel" in text_of(page)
    channel = await get_channel(session, demo.bot_id, ChannelType.API)
    assert channel is not None
    assert not channel.enabled
    # The web chat is part of every bot.
    answer = await owner.post(f"{here}/channels/web/disconnect", {})
    assert answer.status_code == 404


@pytest.fixture
async def telegram_app(settings: Settings, fake_telegram: FakeTelegram) -> AsyncIterator[FastAPI]:
    """The app talking to the fake Bot API."""
    app = create_app(settings.model_copy(update={"telegram_api_base": fake_telegram.url}))
    try:
        yield app
    finally:
        await app.state.runtime.http.aclose()
        await app.state.engine.dispose()


@pytest.fixture
async def https_owner(telegram_app: FastAPI, demo: DemoSecrets) -> AsyncIterator[DashboardClient]:
    """The owner on the dashboard opened at an https address, which Telegram can post to."""
    client = await signed_in(
        telegram_app, demo.email, demo.password, base_url="https://bots.example.com"
    )
    try:
        yield client
    finally:
        await client.aclose()


async def test_a_telegram_bot_is_connected_by_its_token(
    https_owner: DashboardClient, demo: DemoSecrets, fake_telegram: FakeTelegram
) -> None:
    here = f"/dashboard/bots/{demo.bot_id}"
    page = await post_and_follow(https_owner, f"{here}/telegram", {"token": f" {TOKEN} "})
    assert flashes(page) == [("success", "Telegram connected: @konversation_test_bot.")]
    assert "Connected as @konversation_test_bot" in text_of(page)
    assert TOKEN not in page.text
    assert [call.method for call in fake_telegram.calls] == ["getMe", "setWebhook"]
    webhook = fake_telegram.calls[1].params["url"]
    assert webhook.startswith("https://bots.example.com/webhooks/telegram/")
    assert webhook in text_of(page)

    page = await post_and_follow(https_owner, f"{here}/channels/telegram/disconnect", {})
    assert flashes(page) == [("success", "Telegram disconnected.")]
    assert fake_telegram.calls[-1].method == "deleteWebhook"
    assert "Connect Telegram" in text_of(page)


async def test_telegram_refusals_are_shown_on_the_form(
    https_owner: DashboardClient,
    demo: DemoSecrets,
    fake_telegram: FakeTelegram,
    session: AsyncSession,
) -> None:
    here = f"/dashboard/bots/{demo.bot_id}"
    page = await https_owner.post(f"{here}/telegram", {"token": "not a token"})
    assert page.status_code == 422
    assert "The token must look like 123456789:AAE… as @BotFather gives it." in text_of(page)
    assert fake_telegram.calls == []

    fake_telegram.fail_next(401)
    page = await https_owner.post(f"{here}/telegram", {"token": TOKEN})
    assert page.status_code == 422
    assert "Telegram refused the token: 401 Unauthorized" in text_of(page)
    assert await get_channel(session, demo.bot_id, ChannelType.TELEGRAM) is None


async def test_telegram_refuses_a_webhook_that_is_not_https(
    telegram_app: FastAPI, demo: DemoSecrets, fake_telegram: FakeTelegram, session: AsyncSession
) -> None:
    client = await signed_in(telegram_app, demo.email, demo.password)
    try:
        page = await client.post(f"/dashboard/bots/{demo.bot_id}/telegram", {"token": TOKEN})
    finally:
        await client.aclose()
    assert page.status_code == 422
    text = text_of(page)
    assert "Telegram refused the webhook URL http://testserver/webhooks/telegram/" in text
    assert "Telegram only sends messages to public HTTPS addresses" in text
    # Nothing of the attempt is kept: the bot is not connected to Telegram.
    channel = await get_channel(session, demo.bot_id, ChannelType.TELEGRAM)
    assert channel is None or not channel.enabled


async def test_a_bot_gets_its_web_chat_on_first_look(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    bot_id = await make_bot(session, await workspace_of(session, demo.bot_id), name="New bot")
    page = await owner.http.get(f"/dashboard/bots/{bot_id}")
    assert page.status_code == 200
    channel = await get_channel(session, bot_id, ChannelType.WEB)
    assert channel is not None
    assert f"http://testserver/webchat/{channel.uid}/widget.js" in page.text
