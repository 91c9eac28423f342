"""The channels a bot is connected to, with what each needs to send and to receive."""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped


class ChannelType(StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    API = "apichat"
    WHATSAPP = "whatsapp"


def new_uid() -> str:
    return secrets.token_urlsafe(12)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class BotChannel(Timestamped, Base):
    """One channel of one bot.

    `uid` is the public, unguessable part of the channel's URLs (web chat page, webhooks);
    `secret` signs and checks what crosses the channel (the API channel's HMAC key, the secret
    token Telegram echoes on its webhook calls). `config` holds what the service needs: the
    Telegram bot token, the API channel's webhook URL.
    """

    __tablename__ = "bot_channels"
    __table_args__ = (UniqueConstraint("bot_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=new_uid)
    secret: Mapped[str] = mapped_column(String(128), default=new_secret)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
