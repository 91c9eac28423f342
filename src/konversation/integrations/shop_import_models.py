"""Catalogue imports from an outside shop: one row per import an owner started, with how far
it has got (the next page to fetch) and what became of the products read so far."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, LeasedJob, Timestamped, UTCDateTime, utcnow


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ShopImport(LeasedJob, Timestamped, Base):
    """An import of a store's products into a workspace's catalogue, run page by page.

    `cursor` names the next page in the store's own terms (Shopify's `page_info`, WooCommerce's
    page number); None before the first page. The counts say what became of each product read.
    """

    __tablename__ = "shop_imports"
    __table_args__ = (Index("ix_shop_imports_status_next_run_at", "status", "next_run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.QUEUED)
    cursor: Mapped[str | None] = mapped_column(String(1024))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # Failed tries of the current page; reset by every page read.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
