"""A bot's channels: finding them, and the web chat channel every bot has."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.models import BotChannel, ChannelType
from konversation.errors import NotFound

CHANNEL_NOT_FOUND = "Channel not found"


async def get_channel(session: AsyncSession, bot_id: int, type_: str) -> BotChannel | None:
    return await session.scalar(
        select(BotChannel).where(BotChannel.bot_id == bot_id, BotChannel.type == type_)
    )


async def channel_by_uid(session: AsyncSession, uid: str, type_: str) -> BotChannel:
    """The enabled channel of `type_` whose URLs carry `uid`."""
    channel = await session.scalar(
        select(BotChannel).where(
            BotChannel.uid == uid, BotChannel.type == type_, BotChannel.enabled.is_(True)
        )
    )
    if channel is None:
        raise NotFound(CHANNEL_NOT_FOUND)
    return channel


async def enabled_types(session: AsyncSession, bot_id: int) -> set[str]:
    """The channels the bot can send on; web chat always."""
    found = await session.scalars(
        select(BotChannel.type).where(BotChannel.bot_id == bot_id, BotChannel.enabled.is_(True))
    )
    return {ChannelType.WEB, *found}


async def web_channel(session: AsyncSession, bot_id: int) -> BotChannel:
    """The bot's web chat channel, made on first use."""
    channel = await get_channel(session, bot_id, ChannelType.WEB)
    if channel is None:
        channel = BotChannel(bot_id=bot_id, type=ChannelType.WEB, config={})
        session.add(channel)
        await session.flush()
    return channel
