"""Mini-apps installed in a workspace: named HTTP services with their own key, the actions
flows can call on them and the triggers they can fire for a subscriber."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow

# How apps, their actions and triggers may be named. A trigger is indexed for flows as
# `<app_ns>:<trigger name>` in a 100-character column, hence the shorter trigger names.
NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
MAX_APP_NS = 64
MAX_ACTION_NAME = 64
MAX_TRIGGER_NAME = 35


class AuthType(StrEnum):
    API_KEY = "apikey"
    OAUTH2 = "oauth2"


class AppStatus(StrEnum):
    ACTIVE = "active"


class InstalledApp(Timestamped, Base):
    """One installed mini-app.

    `actions` holds `{"name", "method", "path", "param_names"}` objects and `triggers`
    `{"name", "description"}` ones, as the app declared them at install. The app's key is kept
    sealed (see `konversation.integrations.secrets`): it is sent to the app, never shown.
    """

    __tablename__ = "installed_apps"
    __table_args__ = (UniqueConstraint("workspace_id", "app_ns"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    app_ns: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    intro: Mapped[str] = mapped_column(Text, default="")
    logo: Mapped[str | None] = mapped_column(String(1024))
    image: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), default=AppStatus.ACTIVE)
    version: Mapped[str] = mapped_column(String(32), default="1.0")
    auth_type: Mapped[str] = mapped_column(String(16), default=AuthType.API_KEY)
    base_url: Mapped[str] = mapped_column(String(2048))
    sealed_api_key: Mapped[str | None] = mapped_column(Text)
    param_names: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    triggers: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
