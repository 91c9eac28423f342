"""The message log, conversations (from open to close) and what agents did in them."""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    AGENT = "agent"
    NOTE = "note"
    SYSTEM = "system"


def new_mid() -> str:
    """A new message id (`mid`): random, so unique across the server without asking it."""
    return secrets.token_hex(16)


class Message(Timestamped, Base):
    """One line of a conversation: from the subscriber, the bot, an agent, a note or the system."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_subscriber_id_created_at", "subscriber_id", "created_at"),
        Index("ix_messages_bot_id_created_at", "bot_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The message id clients quote back (`chat-messages-by-mids`), unique across the server.
    mid: Mapped[str] = mapped_column(String(64), unique=True, default=new_mid)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    msg_type: Mapped[str] = mapped_column(String(32), default="text")
    content: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Conversation(Timestamped, Base):
    """A subscriber's conversation with the team, from when it opened until it is closed (done)."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_bot_id_closed_last_close_at", "bot_id", "closed", "last_close_at"),
        Index("ix_conversations_subscriber_id_id", "subscriber_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    source_type: Mapped[str] = mapped_column(String(16))
    is_new_bot_user: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_source: Mapped[str | None] = mapped_column(String(16))
    closed_source: Mapped[str | None] = mapped_column(String(16))
    first_open_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_open_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_close_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_close_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_assign_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_assign_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_reply_after_last_assign_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_assign_agent_id: Mapped[int | None] = mapped_column(Integer)
    last_assign_agent_id: Mapped[int | None] = mapped_column(Integer)
    first_reply_agent_id: Mapped[int | None] = mapped_column(Integer)
    first_close_agent_id: Mapped[int | None] = mapped_column(Integer)
    last_close_agent_id: Mapped[int | None] = mapped_column(Integer)
    in_messages: Mapped[int] = mapped_column(Integer, default=0)
    agent_messages: Mapped[int] = mapped_column(Integer, default=0)
    bot_messages: Mapped[int] = mapped_column(Integer, default=0)
    number_of_notes: Mapped[int] = mapped_column(Integer, default=0)
    number_of_assignments: Mapped[int] = mapped_column(Integer, default=0)
    number_of_opens: Mapped[int] = mapped_column(Integer, default=0)
    number_of_closes: Mapped[int] = mapped_column(Integer, default=0)
    # Agents who replied, and the response times so far, to derive the averages on read.
    agent_ids: Mapped[list[int]] = mapped_column(JSONDoc, default=list)
    response_seconds: Mapped[list[int]] = mapped_column(JSONDoc, default=list)
    waiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AgentActivity(Timestamped, Base):
    """Something that happened to a conversation: opened, closed, assigned, replied..."""

    __tablename__ = "agent_activities"
    __table_args__ = (Index("ix_agent_activities_bot_id_created_at", "bot_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    agent_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    source_type: Mapped[str] = mapped_column(String(16))
