"""A bot's subscribers, their channel identities, tags, field values and messages."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SPAM = "spam"
    DONE = "done"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    AGENT = "agent"
    NOTE = "note"
    SYSTEM = "system"


class Subscriber(Timestamped, Base):
    """One person on one bot (`f<bot>u<number>`)."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("bot_id", "number"),
        Index("ix_subscribers_bot_id_last_interaction_at", "bot_id", "last_interaction_at"),
        Index("ix_subscribers_bot_id_created_at", "bot_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255), default="")
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    gender: Mapped[str | None] = mapped_column(String(16))
    profile_pic: Mapped[str | None] = mapped_column(String(1024))
    locale: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.OPEN)
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_in_email_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_in_sms_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_in_through: Mapped[str | None] = mapped_column(String(64))
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_bot_interaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_message_type: Mapped[str | None] = mapped_column(String(32))
    last_input_text: Mapped[str | None] = mapped_column(Text)
    paused_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SubscriberChannel(Base):
    """Where a subscriber can be reached: a channel type and their id on it."""

    __tablename__ = "subscriber_channels"
    __table_args__ = (UniqueConstraint("subscriber_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    channel_id: Mapped[str | None] = mapped_column(String(128))
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SubscriberTag(Timestamped, Base):
    __tablename__ = "subscriber_tags"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SubscriberFieldValue(Base):
    __tablename__ = "subscriber_field_values"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[Any] = mapped_column(JSONDoc, nullable=True)


class Message(Timestamped, Base):
    """One line of a conversation: from the subscriber, the bot, an agent, a note or the system."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_subscriber_id_created_at", "subscriber_id", "created_at"),
        Index("ix_messages_bot_id_created_at", "bot_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    msg_type: Mapped[str] = mapped_column(String(32), default="text")
    content: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
