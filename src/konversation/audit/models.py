"""One row per audited action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped


class AuditEntry(Timestamped, Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_workspace_id_id", "workspace_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The log outlives what it tells of: a deleted workspace leaves its entries behind.
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
