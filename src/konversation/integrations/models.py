"""One row per connected service of a workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow


class Integration(Timestamped, Base):
    """`public` holds the plain settings and, for each secret one, its mask; `sealed` holds the
    secret settings encrypted (see `integrations.secrets`), so reading a configuration back never
    needs, nor risks exposing, the secrets themselves."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("workspace_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    public: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    sealed: Mapped[dict[str, str]] = mapped_column(JSONDoc, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
