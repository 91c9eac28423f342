"""Outbound event webhooks: the URLs a bot's owner has told us to post its events to, and one
row per event and URL (the delivery log, and the queue of what is still to be sent)."""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow


class EventType(StrEnum):
    SUBSCRIBER_CREATED = "subscriber.created"
    TAG_ADDED = "subscriber.tag_added"
    TAG_REMOVED = "subscriber.tag_removed"
    FIELD_CHANGED = "subscriber.field_changed"
    MESSAGE_RECEIVED = "message.received"
    ORDER_STATUS_CHANGED = "order.status_changed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed, or the URL may not be called


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(Timestamped, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_bot_id", "bot_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(255), default="")
    # The event types (`EventType` values) posted to this URL.
    events: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Keys the HMAC-SHA256 signature of every request, so the receiver can tell it is ours.
    secret: Mapped[str] = mapped_column(String(128), default=new_signing_secret)


class WebhookDelivery(Base):
    """One event for one endpoint: its body, and what became of posting it.

    `event_id` is the event's own id, the same for every endpoint and on every retry or replay,
    so a receiver can tell a repeat.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The delivery this one sends again, when an owner asked for a replay.
    replay_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
