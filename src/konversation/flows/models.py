"""A bot's flows, tags, user and bot fields, and what is attached to its flows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow

MAIN_FLOW_NUMBER = 0


class FlowKind(StrEnum):
    MAIN = "main"
    SUB = "sub"
    WORKFLOW = "workflow"
    FUNCTION = "function"


class FieldScope(StrEnum):
    USER = "user"
    BOT = "bot"


class VarType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ARRAY = "array"
    LONGTEXT = "longtext"


class Flow(Timestamped, Base):
    """The main flow (number 0) or a sub flow (`f<bot>s<number>`), holding its node document."""

    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("bot_id", "number"),
        Index("ix_flows_preview_of", "preview_of", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    # The published document: what the runtime runs.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # What the editor works on; None while it is the published document itself.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    # Counts the draft's saves, so that a save based on an older draft is refused.
    draft_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set on the editor's preview copy of the flow with this id: the copy runs the draft for
    # the owners' test subscribers, has no triggers and is listed nowhere. No foreign key: on
    # SQLite adding one rebuilds the table, and dropping the old one would cascade to every row
    # that refers to a flow; deleting a flow deletes its copy instead (see flows.service).
    preview_of: Mapped[int | None] = mapped_column(Integer, nullable=True)


# What every listing of a bot's flows keeps: the flows themselves, not their preview copies.
LISTED_FLOW = Flow.preview_of.is_(None)


class FlowVersion(Base):
    """A published document of a flow, kept for its history, diffs and rollback."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")


class Tag(Timestamped, Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("bot_id", "number"), UniqueConstraint("bot_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    # Kept as subscribers are tagged and untagged, so a tag's size is known without counting.
    subscriber_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Field(Timestamped, Base):
    """A user field definition or a bot field with its value; both share `f<bot>v<n>` ids."""

    __tablename__ = "fields"
    __table_args__ = (
        UniqueConstraint("bot_id", "number"),
        UniqueConstraint("bot_id", "scope", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(255))
    var_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    # Bot fields only: the value in its typed JSON form.
    value: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    is_template_field: Mapped[bool] = mapped_column(Boolean, default=False)


class InboundWebhook(Timestamped, Base):
    """A URL that outside systems call to start a sub flow."""

    __tablename__ = "inbound_webhooks"
    __table_args__ = (Index("ix_inbound_webhooks_bot_id_name", "bot_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    hook_uid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    sub_flow_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")


class TemplateInstall(Timestamped, Base):
    """A flow template installed into a bot, kept after uninstall as a log entry."""

    __tablename__ = "template_installs"

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    template_ns: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    allow_republish: Mapped[bool] = mapped_column(Boolean, default=False)
    can_view: Mapped[bool] = mapped_column(Boolean, default=True)
    can_edit: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_update: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    uninstalled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KeywordTrigger(Base):
    """A keyword that starts a flow, kept from the flow document's `triggers` as it is saved."""

    __tablename__ = "keyword_triggers"
    __table_args__ = (Index("ix_keyword_triggers_bot_id_keyword", "bot_id", "keyword"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    # Case-folded, spaces collapsed: what an inbound text is compared with after the same.
    keyword: Mapped[str] = mapped_column(String(100))
    match: Mapped[str] = mapped_column(String(16))


class NodeRef(Base):
    """A node's bot-wide number, its `f<bot>n<number>` id: given when its flow is first saved
    with it, and kept while the node keeps its id."""

    __tablename__ = "node_refs"
    __table_args__ = (UniqueConstraint("bot_id", "number"), UniqueConstraint("flow_id", "node_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(64))
