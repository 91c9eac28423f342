"""A bot's subscribers, their channel identities, tags, field values and messages."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow

VALUE_KEY_LENGTH = 191


def value_key(value: Any) -> str | None:
    """A stored value as the text `user_field_value` filters compare, cut to an indexable length.

    Text as it is; numbers, booleans and arrays as their JSON (`12`, `2.5`, `true`, `["a", 1]`).
    Written with every value; a filter keys the value it looks for the same way.
    """
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:VALUE_KEY_LENGTH]


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SPAM = "spam"
    DONE = "done"


class Subscriber(Timestamped, Base):
    """One person on one bot (`f<bot>u<number>`)."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("bot_id", "number"),
        # Every list is ordered by activity; these keep a page cheap however big the bot.
        Index("ix_subscribers_bot_id_activity_at_id", "bot_id", "activity_at", "id"),
        Index("ix_subscribers_bot_id_last_interaction_at", "bot_id", "last_interaction_at"),
        Index("ix_subscribers_bot_id_created_at", "bot_id", "created_at"),
        Index("ix_subscribers_bot_id_user_id", "bot_id", "user_id"),
        Index("ix_subscribers_bot_id_email", "bot_id", "email"),
        Index("ix_subscribers_bot_id_phone_tail", "bot_id", "phone_tail"),
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
    # The phone's last digits, so a number matches with or without its `+` and country code.
    phone_tail: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    profile_pic: Mapped[str | None] = mapped_column(String(1024))
    locale: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.OPEN)
    is_subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_in_email_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_in_sms_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_in_through: Mapped[str | None] = mapped_column(String(64))
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last interaction, or the creation for someone who never wrote: the list order.
    activity_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_bot_interaction_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_message_type: Mapped[str | None] = mapped_column(String(32))
    last_input_text: Mapped[str | None] = mapped_column(Text)
    # The channel the subscriber last wrote from: where the bot answers them.
    last_channel: Mapped[str | None] = mapped_column(String(32))
    paused_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    agent_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_groups.id", ondelete="SET NULL")
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


class SubscriberLabel(Timestamped, Base):
    __tablename__ = "subscriber_labels"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class StatusCount(Base):
    """How many of a bot's subscribers are in each conversation state, kept as they change."""

    __tablename__ = "subscriber_status_counts"

    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


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
    __table_args__ = (
        Index("ix_subscriber_field_values_field_id_value_key", "field_id", "value_key"),
    )

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    # The value as text, cut to an indexable length: what `user_field_value` filters compare.
    value_key: Mapped[str | None] = mapped_column(String(VALUE_KEY_LENGTH))
