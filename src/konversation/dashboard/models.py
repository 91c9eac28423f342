"""What the dashboard stores besides the domain: failed sign-ins, for the lockout."""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, Timestamped


class LoginFailure(Timestamped, Base):
    """One refused sign-in. Kept in the database so every server process sees the same count."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_created_at", "email", "created_at"),
        Index("ix_login_failures_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed (normalised), whether or not such a user exists: counting per address never
    # tells an attacker which addresses have accounts.
    email: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
