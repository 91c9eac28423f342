"""The workspace's bots and, per bot, its channels: the web chat to paste into a site, a
Telegram bot to connect by its token, and the API channel's webhook URLs."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, Final

from fastapi import Form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.channels import setup
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import get_channel
from konversation.dashboard.pages_common import (
    Builder,
    messages_of,
    public_base_url,
    workspace_bot,
)
from konversation.dashboard.web import DbSession, flash, page_router, redirect, render
from konversation.db import session_scope
from konversation.errors import KonversationError, NotFound
from konversation.workspaces.models import Bot

router = page_router()

PAGE: Final = "/dashboard/bots"
CHANNEL_NAMES: Final = {
    ChannelType.WEB: "Web chat",
    ChannelType.TELEGRAM: "Telegram",
    ChannelType.API: "API channel",
    ChannelType.WHATSAPP: "WhatsApp",
}


@router.get(PAGE)
async def bot_list(request: Request, viewer: Builder, session: DbSession) -> Response:
    ids = [bot.id for bot in viewer.bots]
    enabled: dict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(BotChannel.bot_id, BotChannel.type)
        .where(BotChannel.bot_id.in_(ids), BotChannel.enabled.is_(True))
        .order_by(BotChannel.id)
    )
    for bot_id, type_ in rows:
        enabled[bot_id].append(CHANNEL_NAMES.get(ChannelType(type_), type_))
    return render(
        request,
        "bots_list.html",
        {"bots": viewer.bots, "channels": {bot_id: names for bot_id, names in enabled.items()}},
    )


@router.get(PAGE + "/{bot_id}")
async def bot_channels(
    request: Request, viewer: Builder, session: DbSession, bot_id: int
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    if await get_channel(session, bot.id, ChannelType.WEB) is not None:
        return await channels_page(request, session, bot)
    # A bot's web chat channel is made on first sight: the first look writes.
    async with session_scope(request.app.state.sessions) as writer:
        return await channels_page(request, writer, bot)


async def channels_page(
    request: Request,
    session: AsyncSession,
    bot: Bot,
    *,
    errors: dict[str, list[str]] | None = None,
    api_secret: str | None = None,
    status_code: int = 200,
) -> Response:
    """The bot's channels; `errors` by form (telegram, api), `api_secret` once after a connect."""
    base_url = public_base_url(request)
    found = await setup.overview(session, bot.id)
    channels = {ChannelType(channel.type): channel for channel in found.channels}
    return render(
        request,
        "bots_channels.html",
        {
            "bot": bot,
            "base_url": base_url,
            "web": channels[ChannelType.WEB],
            "web_urls": setup.channel_urls(channels[ChannelType.WEB], base_url),
            "telegram": _shown(channels.get(ChannelType.TELEGRAM), base_url),
            "api": _shown(channels.get(ChannelType.API), base_url),
            "whatsapp": _shown(channels.get(ChannelType.WHATSAPP), base_url),
            "hooks": [
                (hook, setup.inbound_webhook_url(base_url, hook.hook_uid))
                for hook in found.inbound_webhooks
            ],
            "errors": errors or {},
            "api_secret": api_secret,
            "public_https": base_url.startswith("https://"),
        },
        status_code=status_code,
    )


def _shown(channel: BotChannel | None, base_url: str) -> dict[str, Any] | None:
    """What the page tells of a connected channel (never a Telegram token)."""
    if channel is None or not channel.enabled:
        return None
    return {
        "urls": setup.channel_urls(channel, base_url),
        "username": channel.config.get("username"),
        "number": channel.config.get("display_phone_number"),
    }


def _telegram(request: Request) -> setup.TelegramApi:
    runtime = request.app.state.runtime
    return setup.TelegramApi(http=runtime.http, base_url=runtime.settings.telegram_api_base)


@router.post(PAGE + "/{bot_id}/telegram")
async def connect_telegram(
    request: Request,
    viewer: Builder,
    session: DbSession,
    bot_id: int,
    token: Annotated[str, Form()] = "",
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    try:
        async with session.begin_nested():
            channel = await setup.connect_telegram(
                session,
                bot.id,
                token=token,
                telegram=_telegram(request),
                public_base_url=public_base_url(request),
            )
    except KonversationError as refused:
        return await channels_page(
            request, session, bot, errors={"telegram": messages_of(refused)}, status_code=422
        )
    username = channel.config.get("username")
    flash(request, f"Telegram connected{f': @{username}' if username else ''}.", "success")
    return redirect(request, f"{PAGE}/{bot.id}")


@router.post(PAGE + "/{bot_id}/whatsapp")
async def connect_whatsapp(
    request: Request,
    viewer: Builder,
    session: DbSession,
    bot_id: int,
    phone_number_id: Annotated[str, Form()] = "",
    waba_id: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
    app_secret: Annotated[str, Form()] = "",
    verify_token: Annotated[str, Form()] = "",
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    account = setup.WhatsAppAccount(phone_number_id, waba_id, token, app_secret, verify_token)
    runtime = request.app.state.runtime
    graph = setup.GraphApi(http=runtime.http, base_url=runtime.settings.graph_api_base)
    try:
        async with session.begin_nested():
            await setup.connect_whatsapp(session, bot.id, account, graph=graph)
    except KonversationError as refused:
        return await channels_page(
            request, session, bot, errors={"whatsapp": messages_of(refused)}, status_code=422
        )
    flash(request, "WhatsApp connected.", "success")
    return redirect(request, f"{PAGE}/{bot.id}")


@router.post(PAGE + "/{bot_id}/api")
async def connect_api(
    request: Request,
    viewer: Builder,
    session: DbSession,
    bot_id: int,
    webhook_url: Annotated[str, Form()] = "",
    rotate_secret: Annotated[bool, Form()] = False,
) -> Response:
    """Connect the API channel; its secret is shown on the answer, and never again."""
    bot = workspace_bot(viewer, bot_id)
    try:
        async with session.begin_nested():
            channel = await setup.connect_api(
                session, bot.id, webhook_url=webhook_url, rotate_secret=rotate_secret
            )
    except KonversationError as refused:
        return await channels_page(
            request, session, bot, errors={"api": messages_of(refused)}, status_code=422
        )
    return await channels_page(request, session, bot, api_secret=channel.secret)


@router.post(PAGE + "/{bot_id}/channels/{type_}/disconnect")
async def disconnect(
    request: Request, viewer: Builder, session: DbSession, bot_id: int, type_: str
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    if type_ not in (ChannelType.TELEGRAM, ChannelType.API, ChannelType.WHATSAPP):
        raise NotFound("Channel not found")
    await setup.disconnect(session, bot.id, type_, telegram=_telegram(request))
    flash(request, f"{CHANNEL_NAMES[ChannelType(type_)]} disconnected.", "success")
    return redirect(request, f"{PAGE}/{bot.id}")
