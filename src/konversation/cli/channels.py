"""`konversation channels`: connect bots to Telegram and to the owner's own system, list where
each bot is reached, and disconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Annotated

import httpx
import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels import setup
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import get_channel
from konversation.cli.context import database, run_or_exit
from konversation.db import session_scope
from konversation.settings import Settings

app = typer.Typer(help="Connect bots to channels and list where they are reached.")
console = Console()

HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

BotOption = Annotated[int, typer.Option("--bot", help="Bot id (the n of f<n>).")]


class Connectable(StrEnum):
    TELEGRAM = "telegram"
    API = "api"
    WHATSAPP = "whatsapp"

    @property
    def channel_type(self) -> ChannelType:
        return ChannelType.API if self is Connectable.API else ChannelType(self.value)


@app.command("connect-telegram")
def connect_telegram(
    bot: BotOption,
    token: Annotated[str, typer.Option(help="The bot token @BotFather gave.")],
) -> None:
    """Connect a Telegram bot and have Telegram post its updates here (needs a public HTTPS
    KONVERSATION_PUBLIC_URL)."""
    settings = Settings()

    async def run() -> BotChannel:
        async with _writing(settings) as session, _telegram(settings) as telegram:
            return await setup.connect_telegram(
                session, bot, token=token, telegram=telegram, public_base_url=settings.base_url
            )

    channel = run_or_exit(run())
    _say(f"Bot f{bot} is connected to Telegram as @{channel.config.get('username')}.")
    _say(f"Telegram posts updates to {setup.telegram_webhook_url(settings.base_url, channel.uid)}")


@app.command("connect-whatsapp")
def connect_whatsapp(
    bot: BotOption,
    phone_number_id: Annotated[str, typer.Option(help="The business number's id at Meta.")],
    waba_id: Annotated[str, typer.Option(help="The WhatsApp Business Account id.")],
    token: Annotated[str, typer.Option(help="A system user's access token.")],
    app_secret: Annotated[str, typer.Option(help="The Meta app's secret (signs webhooks).")],
    verify_token: Annotated[
        str, typer.Option(help="The webhook's verify token (a new one when left out).")
    ] = "",
) -> None:
    """Connect a WhatsApp business number of the Cloud API; then give Meta's app dashboard the
    webhook URL and verify token printed."""
    settings = Settings()
    account = setup.WhatsAppAccount(phone_number_id, waba_id, token, app_secret, verify_token)

    async def run() -> BotChannel:
        async with _writing(settings) as session, httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            graph = setup.GraphApi(http, settings.graph_api_base)
            return await setup.connect_whatsapp(session, bot, account, graph=graph)

    channel = run_or_exit(run())
    urls = setup.channel_urls(channel, settings.base_url)
    _say(f"Bot f{bot} is connected to WhatsApp {channel.config.get('display_phone_number')}.")
    _say(f"Webhook URL: {urls['webhook']}")
    _say(f"Verify token: {urls['verify_token']}")


@app.command("connect-api")
def connect_api(
    bot: BotOption,
    webhook_url: Annotated[str, typer.Option(help="Where the bot's messages are posted, signed.")],
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="Replace the secret of a connected channel.")
    ] = False,
) -> None:
    """Connect the owner's own system: the bot's messages are posted to WEBHOOK_URL, and the
    system posts its users' messages here, both signed with the channel's secret."""
    settings = Settings()

    async def run() -> tuple[BotChannel, bool]:
        async with _writing(settings) as session:
            shown = new_secret or await get_channel(session, bot, ChannelType.API) is None
            channel = await setup.connect_api(
                session, bot, webhook_url=webhook_url, rotate_secret=new_secret
            )
            return channel, shown

    channel, secret_is_new = run_or_exit(run())
    _say(f"Bot f{bot} posts its messages to {channel.config['webhook_url']}")
    _say(f"Post your users' messages to {setup.api_inbound_url(settings.base_url, channel.uid)}")
    if not secret_is_new:
        _say("The secret is unchanged (--new-secret makes a new one).")
        return
    _say("The channel's secret signs both directions. It is shown only now:")
    print(channel.secret)


@app.command("list")
def list_(bot: BotOption) -> None:
    """Show the bot's channels with their URLs, and its inbound webhooks."""
    settings = Settings()
    base = settings.base_url

    async def run() -> setup.Overview:
        async with _writing(settings) as session:  # the web chat channel is made on first use
            return await setup.overview(session, bot)

    found = run_or_exit(run())
    for channel in found.channels:
        state = "on" if channel.enabled else "off"
        _say(f"{channel.type}  {channel.uid}  {state}")
        for purpose, url in setup.channel_urls(channel, base).items():
            _say(f"  {purpose}: {url}")
    for hook in found.inbound_webhooks:
        _say(
            f"inbound webhook {hook.name!r} (sub flow f{bot}s{hook.sub_flow_number}, {hook.status})"
        )
        _say(f"  url: {setup.inbound_webhook_url(base, hook.hook_uid)}")


@app.command("disconnect")
def disconnect(
    bot: BotOption,
    channel_type: Annotated[Connectable, typer.Option("--type", help="The channel to switch off.")],
) -> None:
    """Switch a channel off (a Telegram bot stops posting here); connecting again keeps its
    URLs."""
    settings = Settings()

    async def run() -> BotChannel:
        async with _writing(settings) as session, _telegram(settings) as telegram:
            return await setup.disconnect(
                session, bot, channel_type.channel_type, telegram=telegram
            )

    run_or_exit(run())
    _say(f"Bot f{bot} is disconnected from {channel_type.value}.")


@asynccontextmanager
async def _writing(settings: Settings) -> AsyncIterator[AsyncSession]:
    async with database(settings) as (_engine, sessions), session_scope(sessions) as session:
        yield session


@asynccontextmanager
async def _telegram(settings: Settings) -> AsyncIterator[setup.TelegramApi]:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
        yield setup.TelegramApi(http, settings.telegram_api_base)


def _say(text: str) -> None:
    # URLs, tokens and HTML are printed as they are: never read as markup, never wrapped.
    console.print(text, markup=False, highlight=False, soft_wrap=True)
