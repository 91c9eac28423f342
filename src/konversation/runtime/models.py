"""The runtime's durable state: flow runs and the outbox of messages to deliver.

Nothing waits in memory: a run that waits for an answer or a delay is a row with a due time, and
a message to send is an outbox row until its channel took it, so a restart loses nothing.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow


class RunStatus(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"
    DONE = "done"
    # Another flow took over the conversation while this one waited for an answer.
    SUPERSEDED = "superseded"
    # Stopped by the runtime: too many steps in a row, or a node it could not run.
    FAILED = "failed"


class WaitKind(StrEnum):
    INPUT = "input"  # a user_input node's question
    CHOICE = "choice"  # quick replies offered by a send_message node
    DELAY = "delay"  # a delay node


LIVE_STATUSES = (RunStatus.RUNNING, RunStatus.WAITING)


class Run(Timestamped, Base):
    """One flow running for one subscriber, from its start until it ends.

    `node_id` is where it stands in `flow_id`; `stack` holds the frames of the flows that
    started it, innermost last, each `{"flow_id", "node_id"}` naming the start_flow node to go
    on from. A waiting run has `wait` and, for delays and timed questions, `due_at`.
    """

    __tablename__ = "flow_runs"
    __table_args__ = (
        Index("ix_flow_runs_subscriber_id_status", "subscriber_id", "status"),
        Index("ix_flow_runs_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str | None] = mapped_column(String(64))
    stack: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING)
    wait: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Invalid answers given to the question the run waits on.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The quick replies offered while waiting, `[{"title", "payload"}]`, to map a typed title.
    offered: Mapped[list[dict[str, str]]] = mapped_column(JSONDoc, default=list)
    # Nodes run so far: numbers the run's messages and bounds runaway loops.
    steps: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(String(16), default="api")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # The channel refused it for good, or tries ran out.
    FAILED = "failed"
    # The subscriber has no channel the bot can reach them on: logged, never sent.
    UNROUTABLE = "unroutable"
    # After SENT, for channels that report it (WhatsApp): it reached the phone, then was read.
    DELIVERED = "delivered"
    READ = "read"


class Delivery(Base):
    """A message on its way to a subscriber's channel: the outbox.

    Written in the same transaction as the message log entry and the run's step, so a message is
    delivered if and only if its step happened. `key` is unique per recipient and step: running
    a step twice cannot queue its message twice.
    """

    __tablename__ = "deliveries"
    # Claims take due messages in (due_at, id) order straight from this index.
    __table_args__ = (
        Index("ix_deliveries_status_due_at_id", "status", "due_at", "id"),
        # A channel's status report (WhatsApp's delivered, read) finds its message by its id.
        Index("ix_deliveries_channel_external_id", "channel", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # While a worker sends it, no other picks it up; after a crash it is picked up again then.
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
