"""Templates (a snapshot of a bot's flow document) and the one-time links that install them.

Where a template was installed is kept in `konversation.flows.models.TemplateInstall`, by the
template's `template_ns`, so that the log outlives the template.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow


class TemplateScope(StrEnum):
    # A template carries the whole flow document of its bot.
    BOT = "bot"


class TemplateStatus(StrEnum):
    ACTIVE = "active"


class FlowTemplate(Timestamped, Base):
    __tablename__ = "flow_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    template_ns: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str] = mapped_column(String(1024), default="")
    price: Mapped[int] = mapped_column(Integer, default=0)
    # The channel of the bot it was made from, which the reference calls the flow type.
    flow_type: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16), default=TemplateScope.BOT.value)
    status: Mapped[str] = mapped_column(String(16), default=TemplateStatus.ACTIVE.value)
    version: Mapped[str] = mapped_column(String(32))
    source_bot_id: Mapped[int | None] = mapped_column(
        ForeignKey("bots.id", ondelete="SET NULL"), nullable=True
    )
    # The flow document (`konversation.flow`, version 1) as exported when the template was made.
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TemplateLink(Timestamped, Base):
    """A link that installs its template once, before it expires. Only the token's SHA-256
    digest is stored: the token itself is shown once, in the answer that made it."""

    __tablename__ = "template_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("flow_templates.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_by_bot_id: Mapped[int | None] = mapped_column(
        ForeignKey("bots.id", ondelete="SET NULL"), nullable=True
    )
