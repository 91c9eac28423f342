"""What a dashboard page module needs, in one import (see the package's docstring)."""

from __future__ import annotations

from konversation.dashboard.auth import (
    MANAGERS,
    CurrentUser,
    Viewer,
    WorkspaceRole,
    require_manager_of,
    require_role,
)
from konversation.dashboard.csrf import hidden_input as csrf_input
from konversation.dashboard.problems import LoginRequired, PageForbidden
from konversation.dashboard.routing import local_path, page_router, redirect
from konversation.dashboard.templating import flash, render, static
from konversation.wire.session import Session as DbSession
from konversation.workspaces.models import Role

__all__ = [
    "MANAGERS",
    "CurrentUser",
    "DbSession",
    "LoginRequired",
    "PageForbidden",
    "Role",
    "Viewer",
    "WorkspaceRole",
    "csrf_input",
    "flash",
    "local_path",
    "page_router",
    "redirect",
    "render",
    "require_manager_of",
    "require_role",
    "static",
]
