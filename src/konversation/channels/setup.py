"""Connecting a bot to its channels, and the URLs each channel is reached at.

Telegram: the token from @BotFather is checked with getMe, kept with the bot's username, and
Telegram is told to post updates to `/webhooks/telegram/<uid>` with the channel's secret in the
`X-Telegram-Bot-Api-Secret-Token` header. Telegram only posts to public HTTPS URLs, so the
server's public URL (`KONVERSATION_PUBLIC_URL`) must be one.

The API channel: the bot's messages are posted, signed, to the owner's webhook URL; the owner's
system posts its users' messages, signed the same way, to `/webhooks/api/<uid>` (see
`api_channel`). Both directions use the channel's secret, which the owner is shown on connect.

A bot has at most one channel of each type: connecting again updates it and keeps its URLs.
Disconnecting switches it off (Telegram stops posting), keeping its URLs for a later connect.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.base import DeliveryFailed
from konversation.channels.models import BotChannel, ChannelType, new_secret
from konversation.channels.service import CHANNEL_NOT_FOUND, bot_channels, get_channel
from konversation.channels.telegram import TelegramChannel
from konversation.channels.whatsapp import WhatsAppChannel
from konversation.errors import BadRequest, Invalid, NotFound
from konversation.flows.models import InboundWebhook
from konversation.workspaces.models import Bot

log = logging.getLogger(__name__)

BOT_NOT_FOUND = "Bot not found"
# `<bot id>:<secret>`; anything else (a slash, a space) would change the Bot API URL it goes in.
_TELEGRAM_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")
_WEBHOOK_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class TelegramApi:
    """Where the Bot API is (another base URL serves a local Bot API server) and the client to
    reach it with, owned by the caller."""

    http: httpx.AsyncClient
    base_url: str

    def bot(self, token: str) -> TelegramChannel:
        return TelegramChannel(token, client=self.http, base_url=self.base_url)


@dataclass(frozen=True)
class GraphApi:
    """Where Meta's Graph API is (the WhatsApp Cloud API) and the client to reach it with."""

    http: httpx.AsyncClient
    base_url: str

    def number(self, phone_number_id: str, token: str) -> WhatsAppChannel:
        return WhatsAppChannel(phone_number_id, token, client=self.http, base_url=self.base_url)


@dataclass(frozen=True)
class WhatsAppAccount:
    """What Meta's app dashboard shows for a WhatsApp business number."""

    phone_number_id: str
    waba_id: str
    token: str
    app_secret: str
    verify_token: str = ""


# Connecting


async def connect_telegram(
    session: AsyncSession,
    bot_id: int,
    *,
    token: str,
    telegram: TelegramApi,
    public_base_url: str,
) -> BotChannel:
    """Connect the bot to the Telegram bot of `token` and set its webhook.

    Invalid for a token Telegram refuses; BadRequest when Telegram cannot be reached or refuses
    the webhook URL (it must be public HTTPS).
    """
    await _bot(session, bot_id)
    token = token.strip()
    if not _TELEGRAM_TOKEN.fullmatch(token):
        raise Invalid.field(
            "token", "The token must look like 123456789:AAE… as @BotFather gives it."
        )
    client = telegram.bot(token)
    me = await _checked_token(client)
    channel = await _channel_to_connect(session, bot_id, ChannelType.TELEGRAM)
    previous_token = channel.config.get("token")
    channel.config = {"token": token, "username": me.get("username")}
    channel.enabled = True
    await session.flush()
    url = telegram_webhook_url(public_base_url, channel.uid)
    try:
        await client.set_webhook(url, channel.secret)
    except DeliveryFailed as failed:
        reason = _reason(failed, "setWebhook")
        raise BadRequest(f"Telegram refused the webhook URL {url}: {reason}") from None
    if previous_token and previous_token != token:
        await _stop_webhook(telegram.bot(previous_token))  # the old bot posts here no more
    return channel


async def connect_whatsapp(
    session: AsyncSession, bot_id: int, account: WhatsAppAccount, *, graph: GraphApi
) -> BotChannel:
    """Connect the bot to a WhatsApp business number of the Cloud API.

    The token and the number are checked with Meta, and the app is subscribed to the business
    account's webhooks; Meta's app dashboard then needs the channel's webhook URL and verify
    token (a new one when none is given). Invalid for what Meta refuses; BadRequest when it
    cannot be reached.
    """
    await _bot(session, bot_id)
    fields = {
        "phone_number_id": account.phone_number_id.strip(),
        "waba_id": account.waba_id.strip(),
        "token": account.token.strip(),
        "app_secret": account.app_secret.strip(),
    }
    missing = {
        name: [f"The {name} field is required."] for name, given in fields.items() if not given
    }
    if missing:
        raise Invalid(missing)
    number = graph.number(fields["phone_number_id"], fields["token"])
    try:
        details = await number.phone_number()
        await number.call("POST", f"{fields['waba_id']}/subscribed_apps")
    except DeliveryFailed as failed:
        if failed.retryable:
            raise BadRequest(f"WhatsApp could not check the number: {failed.message}") from None
        raise Invalid.field("token", failed.message) from None
    channel = await _channel_to_connect(session, bot_id, ChannelType.WHATSAPP)
    verify_token = account.verify_token.strip() or channel.config.get("verify_token")
    channel.config = {
        "phone_number_id": fields["phone_number_id"],
        "waba_id": fields["waba_id"],
        "token": fields["token"],
        "verify_token": verify_token or new_secret(),
        "display_phone_number": details.get("display_phone_number"),
    }
    channel.secret = fields["app_secret"]  # Meta signs its webhook posts with it
    channel.enabled = True
    await session.flush()
    return channel


async def connect_api(
    session: AsyncSession, bot_id: int, *, webhook_url: str, rotate_secret: bool = False
) -> BotChannel:
    """Connect the bot to the owner's system at `webhook_url`; the channel's `secret` signs
    both directions. `rotate_secret` replaces the secret of a channel connected before."""
    await _bot(session, bot_id)
    webhook_url = _checked_webhook_url(webhook_url)
    channel = await _channel_to_connect(session, bot_id, ChannelType.API)
    channel.config = {"webhook_url": webhook_url}
    channel.enabled = True
    if rotate_secret:
        channel.secret = new_secret()
    await session.flush()
    return channel


async def disconnect(
    session: AsyncSession, bot_id: int, type_: str, *, telegram: TelegramApi
) -> BotChannel:
    """Switch off the bot's channel of `type_`; a Telegram bot is told to stop posting."""
    if type_ == ChannelType.WEB:
        raise Invalid.field("type", "The web chat is part of every bot: it cannot be disconnected.")
    channel = await get_channel(session, bot_id, type_)
    if channel is None or not channel.enabled:
        raise NotFound(CHANNEL_NOT_FOUND)
    token = channel.config.get("token")
    if type_ == ChannelType.TELEGRAM and token:
        await _stop_webhook(telegram.bot(token))
    channel.enabled = False
    await session.flush()
    return channel


async def _bot(session: AsyncSession, bot_id: int) -> Bot:
    bot = await session.get(Bot, bot_id)
    if bot is None:
        raise NotFound(BOT_NOT_FOUND)
    return bot


async def _channel_to_connect(session: AsyncSession, bot_id: int, type_: str) -> BotChannel:
    channel = await get_channel(session, bot_id, type_)
    if channel is None:
        channel = BotChannel(bot_id=bot_id, type=type_, config={})
        session.add(channel)
    return channel


async def _checked_token(client: TelegramChannel) -> dict[str, object]:
    try:
        return await client.get_me()
    except DeliveryFailed as failed:
        if failed.retryable:
            raise BadRequest(f"Telegram could not check the token: {failed.message}") from None
        reason = _reason(failed, "getMe")
        raise Invalid.field("token", f"Telegram refused the token: {reason}") from None


def _reason(failed: DeliveryFailed, method: str) -> str:
    """Telegram's code and description, without the adapter's preamble."""
    return failed.message.removeprefix(f"Telegram refused {method}: ")


async def _stop_webhook(client: TelegramChannel) -> None:
    # The token may be revoked already: the channel goes off here all the same.
    try:
        await client.delete_webhook()
    except DeliveryFailed as failed:
        log.warning("Could not delete the Telegram webhook: %s", failed.message)


def _checked_webhook_url(value: str) -> str:
    value = value.strip()
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in _WEBHOOK_SCHEMES or not url.host:
        raise Invalid.field("webhook_url", "The webhook URL must be an http or https URL.")
    return value


# Where channels are reached


@dataclass(frozen=True)
class Overview:
    """Every way into a bot: its channels (the web chat's first) and its inbound webhooks."""

    channels: Sequence[BotChannel]
    inbound_webhooks: Sequence[InboundWebhook]


async def overview(session: AsyncSession, bot_id: int) -> Overview:
    await _bot(session, bot_id)
    hooks = await session.scalars(
        select(InboundWebhook).where(InboundWebhook.bot_id == bot_id).order_by(InboundWebhook.id)
    )
    return Overview(await bot_channels(session, bot_id), hooks.all())


def web_chat_url(base_url: str, uid: str) -> str:
    return f"{base_url.rstrip('/')}/webchat/{uid}"


def web_chat_snippet(base_url: str, uid: str) -> str:
    """The HTML a site adds to show the chat bubble on its pages."""
    return f'<script src="{web_chat_url(base_url, uid)}/widget.js" async></script>'


def telegram_webhook_url(base_url: str, uid: str) -> str:
    return f"{base_url.rstrip('/')}/webhooks/telegram/{uid}"


def whatsapp_webhook_url(base_url: str, uid: str) -> str:
    return f"{base_url.rstrip('/')}/webhooks/whatsapp/{uid}"


def api_inbound_url(base_url: str, uid: str) -> str:
    return f"{base_url.rstrip('/')}/webhooks/api/{uid}"


def inbound_webhook_url(base_url: str, hook_uid: str) -> str:
    return f"{base_url.rstrip('/')}/webhooks/inbound/{hook_uid}"


def channel_urls(channel: BotChannel, base_url: str) -> dict[str, str]:
    """What the owner needs to know of the channel's URLs, by what each is for."""
    if channel.type == ChannelType.WEB:
        return {
            "page": web_chat_url(base_url, channel.uid),
            "snippet": web_chat_snippet(base_url, channel.uid),
        }
    if channel.type == ChannelType.TELEGRAM:
        urls = {"webhook": telegram_webhook_url(base_url, channel.uid)}
        if channel.config.get("username"):
            urls["bot"] = f"https://t.me/{channel.config['username']}"
        return urls
    if channel.type == ChannelType.WHATSAPP:
        return {
            "webhook": whatsapp_webhook_url(base_url, channel.uid),
            "verify_token": str(channel.config.get("verify_token", "")),
        }
    if channel.type == ChannelType.API:
        return {
            "inbound": api_inbound_url(base_url, channel.uid),
            "outbound": str(channel.config.get("webhook_url", "")),
        }
    return {}
