"""One row per idempotency key of a caller: the request it named and, once given, its answer."""

from __future__ import annotations

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, Timestamped


class IdempotentRequest(Timestamped, Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index("ix_idempotent_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Unset while the first request is being handled.
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
