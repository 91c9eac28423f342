"""Workspaces, their people and their bots."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, Timestamped


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    AGENT = "agent"


class User(Timestamped, Base):
    """A person who signs in to the dashboard."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    image: Mapped[str | None] = mapped_column(String(1024))
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)


class Workspace(Timestamped, Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    image: Mapped[str | None] = mapped_column(String(1024))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Membership(Timestamped, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class Bot(Timestamped, Base):
    """A chatbot: the original API calls it a flow, and its namespace is `f<id>`."""

    __tablename__ = "bots"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(32), default="web")
    linked_label: Mapped[str | None] = mapped_column(String(255))
    # Sub flow numbers (the `n` of `f<bot>s<n>`) that start conversations; None means the main flow.
    start_sub_flow: Mapped[int | None] = mapped_column(Integer)
    web_chat_start_sub_flow: Mapped[int | None] = mapped_column(Integer)
    stt_model: Mapped[str] = mapped_column(String(64), default="none")


class BotCounter(Base):
    """The last number handed out per bot and kind of namespaced id."""

    __tablename__ = "bot_counters"

    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(4), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class AgentGroup(Timestamped, Base):
    """A team of members that conversations can be handed to as a whole."""

    __tablename__ = "agent_groups"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
