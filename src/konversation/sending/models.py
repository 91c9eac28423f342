"""Broadcasts: a sub flow sent to many subscribers in the background, paced and resumable."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, LeasedJob, Timestamped, UTCDateTime, utcnow


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    SENT = "sent"
    # Unsubscribed, paused, or unreachable when their turn came.
    SKIPPED = "skipped"
    # A template broadcast's WhatsApp recipient outside the 24-hour window, whose sub flow does
    # not open with a template; counted with the skipped.
    OUTSIDE_WINDOW = "outside_window"
    FAILED = "failed"


class Broadcast(LeasedJob, Timestamped, Base):
    """Who gets which sub flow, when, how fast, and how far it has got.

    `audience` says how recipients are chosen: `{"subscriber_ids": [...]}` for lists, or
    `{"tags": [...], "exclude_tags": [...]}`, or `{"segments": [...]}`. Recipients are taken in
    subscriber id order after `cursor`, so a broadcast resumes where it stopped.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_next_run_at", "status", "next_run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    audience: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    # The reference's `type` (EMAIL, SMS, ...), kept as given.
    message_type: Mapped[str | None] = mapped_column(String(32))
    # Field values set on each recipient (user fields) or once on the bot before sending.
    user_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    bot_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.SCHEDULED)
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    max_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class BroadcastRecipient(Base):
    """A subscriber a broadcast has reached: the proof it never reaches them twice."""

    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
