"""`konversation channels`: connecting a bot to Telegram (a fake Bot API on 127.0.0.1) and to the
owner's system, listing where it is reached, and disconnecting."""

from __future__ import annotations

import asyncio

from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from builders import Tenant
from fake_telegram import (  # noqa: F401
    FakeTelegram,
    fake_telegram_fixture,
    fake_telegram_server_fixture,
)
from konversation.channels.models import BotChannel, ChannelType
from konversation.cli.channels import app
from konversation.settings import Settings

runner = CliRunner()
PUBLIC_URL = "https://bots.example.com"
TOKEN = "123456789:AAH-test-token_of-the-bot"


async def cli(settings: Settings, fake: FakeTelegram, *args: str) -> Result:
    env = {
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": settings.secret_key or "",
        "KONVERSATION_PUBLIC_URL": PUBLIC_URL,
        "KONVERSATION_TELEGRAM_API_BASE": fake.url,
    }
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def ok(settings: Settings, fake: FakeTelegram, *args: str) -> str:
    result = await cli(settings, fake, *args)
    assert result.exit_code == 0, result.output
    return result.output


async def stored(session: AsyncSession, bot_id: int, type_: str) -> BotChannel:
    channel = await session.scalar(
        select(BotChannel).where(BotChannel.bot_id == bot_id, BotChannel.type == type_)
    )
    assert channel is not None
    return channel


async def test_connect_telegram_sets_the_webhook_and_says_where(
    settings: Settings, fake_telegram: FakeTelegram, tenant: Tenant, session: AsyncSession
) -> None:
    bot = str(tenant.bot_id)
    output = await ok(settings, fake_telegram, "connect-telegram", "--bot", bot, "--token", TOKEN)
    channel = await stored(session, tenant.bot_id, ChannelType.TELEGRAM)
    url = f"{PUBLIC_URL}/webhooks/telegram/{channel.uid}"
    assert f"Bot f{bot} is connected to Telegram as @konversation_test_bot." in output
    assert url in output
    [set_webhook] = [c for c in fake_telegram.calls if c.method == "setWebhook"]
    assert set_webhook.params["url"] == url
    assert set_webhook.params["secret_token"] == channel.secret
    assert TOKEN not in output


async def test_a_refused_token_fails_with_the_reason(
    settings: Settings, fake_telegram: FakeTelegram, tenant: Tenant
) -> None:
    fake_telegram.fail_next(401)
    result = await cli(
        settings, fake_telegram, "connect-telegram", "--bot", str(tenant.bot_id), "--token", TOKEN
    )
    assert result.exit_code == 1
    assert "Telegram refused the token" in result.output


async def test_connect_api_prints_the_secret_only_when_it_is_new(
    settings: Settings, fake_telegram: FakeTelegram, tenant: Tenant, session: AsyncSession
) -> None:
    bot = str(tenant.bot_id)
    first = await ok(
        settings, fake_telegram, "connect-api", "--bot", bot, "--webhook-url", "https://crm/a"
    )
    channel = await stored(session, tenant.bot_id, ChannelType.API)
    first_secret = channel.secret
    assert first.strip().splitlines()[-1] == first_secret
    assert f"{PUBLIC_URL}/webhooks/api/{channel.uid}" in first

    again = await ok(
        settings, fake_telegram, "connect-api", "--bot", bot, "--webhook-url", "https://crm/b"
    )
    assert first_secret not in again
    assert "The secret is unchanged" in again

    rotated = await ok(
        settings, fake_telegram,
        "connect-api", "--bot", bot, "--webhook-url", "https://crm/b", "--new-secret",
    )  # fmt: skip
    await session.rollback()  # a new transaction sees what the command wrote
    new = await stored(session, tenant.bot_id, ChannelType.API)
    assert rotated.strip().splitlines()[-1] == new.secret != first_secret


async def test_list_shows_every_url_and_disconnect_switches_a_channel_off(
    settings: Settings, fake_telegram: FakeTelegram, tenant: Tenant, session: AsyncSession
) -> None:
    bot = str(tenant.bot_id)
    await ok(settings, fake_telegram, "connect-telegram", "--bot", bot, "--token", TOKEN)
    await ok(settings, fake_telegram, "connect-api", "--bot", bot, "--webhook-url", "https://crm/a")
    listing = await ok(settings, fake_telegram, "list", "--bot", bot)
    web = await stored(session, tenant.bot_id, ChannelType.WEB)
    telegram = await stored(session, tenant.bot_id, ChannelType.TELEGRAM)
    api = await stored(session, tenant.bot_id, ChannelType.API)
    for line in [
        f"web  {web.uid}  on",
        f"  page: {PUBLIC_URL}/webchat/{web.uid}",
        f'  snippet: <script src="{PUBLIC_URL}/webchat/{web.uid}/widget.js" async></script>',
        f"telegram  {telegram.uid}  on",
        f"  webhook: {PUBLIC_URL}/webhooks/telegram/{telegram.uid}",
        f"apichat  {api.uid}  on",
        f"  inbound: {PUBLIC_URL}/webhooks/api/{api.uid}",
        "  outbound: https://crm/a",
    ]:
        assert line in listing.splitlines()
    assert TOKEN not in listing
    assert api.secret not in listing

    fake_telegram.reset()
    output = await ok(settings, fake_telegram, "disconnect", "--bot", bot, "--type", "telegram")
    assert f"Bot f{bot} is disconnected from telegram." in output
    assert [c.method for c in fake_telegram.calls] == ["deleteWebhook"]
    assert f"telegram  {telegram.uid}  off" in await ok(
        settings, fake_telegram, "list", "--bot", bot
    )

    again = await cli(settings, fake_telegram, "disconnect", "--bot", bot, "--type", "telegram")
    assert again.exit_code == 1
    assert "Channel not found" in again.output


async def test_an_unknown_bot_fails_clearly(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    result = await cli(settings, fake_telegram, "list", "--bot", "999999")
    assert result.exit_code == 1
    assert "Bot not found" in result.output
