"""Custom events: named things a subscriber did, logged with optional values."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, Timestamped


class CustomEvent(Timestamped, Base):
    """An event definition (`f<bot>e<number>`), with labels for its three optional values."""

    __tablename__ = "custom_events"
    __table_args__ = (UniqueConstraint("bot_id", "number"), UniqueConstraint("bot_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    text_label: Mapped[str] = mapped_column(String(255), default="")
    number_label: Mapped[str] = mapped_column(String(255), default="")
    price_label: Mapped[str] = mapped_column(String(255), default="")


class CustomEventLog(Timestamped, Base):
    """One occurrence of an event; numbers are kept as exact decimal text."""

    __tablename__ = "custom_event_logs"
    __table_args__ = (
        Index("ix_custom_event_logs_event_id_created_at", "event_id", "created_at"),
        Index("ix_custom_event_logs_subscriber_id_event_id", "subscriber_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("custom_events.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    text_value: Mapped[str | None] = mapped_column(Text)
    number_value: Mapped[str | None] = mapped_column(String(64))
    price_value: Mapped[str | None] = mapped_column(String(64))
