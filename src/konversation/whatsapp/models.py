"""A bot's WhatsApp message templates, as Meta knows them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow


class TemplateStatus(StrEnum):
    """Meta's review states; only an approved template can be sent."""

    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


class WhatsAppTemplate(Timestamped, Base):
    """One template in one language. `components` are Meta's (HEADER, BODY, FOOTER, BUTTONS),
    as created or as the last sync read them; `meta_id` is Meta's id of it."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("bot_id", "name", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    status: Mapped[str] = mapped_column(String(32), default=TemplateStatus.PENDING)
    meta_id: Mapped[str | None] = mapped_column(String(64))
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
