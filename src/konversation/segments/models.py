"""Segments: named, saved subscriber filters (`f<bot>sg<number>`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped


class Segment(Timestamped, Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("bot_id", "number"), UniqueConstraint("bot_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    # The same filters `GET /subscribers` takes, by their query parameter names.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
