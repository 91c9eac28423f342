"""Turning a bot's channel records into adapters that can send."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.api_channel import ApiChannel
from konversation.channels.base import Channel
from konversation.channels.hub import Hub
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import get_channel, web_channel
from konversation.channels.telegram import TelegramChannel
from konversation.channels.webchat import WebChatChannel
from konversation.channels.whatsapp import WhatsAppChannel

GRAPH_API_BASE = "https://graph.facebook.com/v21.0"


class ChannelDirectory:
    """Builds the adapter of a bot's channel; shares one HTTP client among them."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        hub: Hub,
        telegram_api_base: str,
        graph_api_base: str = GRAPH_API_BASE,
    ) -> None:
        self.http = http
        self.hub = hub
        self.telegram_api_base = telegram_api_base
        self.graph_api_base = graph_api_base

    async def channel(self, session: AsyncSession, bot_id: int, type_: str) -> Channel | None:
        """The bot's enabled channel of `type_`, or None when it has none."""
        if type_ == ChannelType.WEB:
            record: BotChannel | None = await web_channel(session, bot_id)
        else:
            record = await get_channel(session, bot_id, type_)
        if record is None or not record.enabled:
            return None
        return self.adapter(record)

    def adapter(self, record: BotChannel) -> Channel | None:
        if record.type == ChannelType.WEB:
            return WebChatChannel(self.hub, record.uid)
        if record.type == ChannelType.TELEGRAM and record.config.get("token"):
            return TelegramChannel(
                record.config["token"], client=self.http, base_url=self.telegram_api_base
            )
        if record.type == ChannelType.WHATSAPP and record.config.get("token"):
            return self.whatsapp(record)
        if record.type == ChannelType.API and record.config.get("webhook_url"):
            return ApiChannel(record.config["webhook_url"], record.secret, client=self.http)
        return None

    def whatsapp(self, record: BotChannel) -> WhatsAppChannel:
        return WhatsAppChannel(
            str(record.config["phone_number_id"]),
            str(record.config["token"]),
            client=self.http,
            base_url=self.graph_api_base,
        )
